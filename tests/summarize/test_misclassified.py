"""The misclassification view on a linear model whose maps are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.summarize import misclassifications

C, T, K = 2, 12, 3


class Linear(nn.Module):
    """Logits ``W_k . x``: input x gradient for class ``k`` is exactly ``x * W_k``."""

    def __init__(self, weight: np.ndarray) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.from_numpy(weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nct,kct->nk", x, self.weight)


@pytest.fixture
def case() -> tuple[Linear, tx.data.Dataset, np.ndarray]:
    rng = np.random.default_rng(4)
    W = rng.normal(size=(K, C, T)).astype(np.float32)
    X = rng.normal(size=(40, C, T)).astype(np.float32)
    logits = np.einsum("nct,kct->nk", X, W)
    pred = logits.argmax(axis=1)
    y = pred.copy()
    y[:8] = (pred[:8] + 1 + (np.arange(8) % 2)) % K  # eight cases labelled otherwise
    ds = tx.data.Dataset(X, y, classes=("a", "b", "c"))
    return Linear(W), ds, logits


def test_cells_cases_order_and_maps(case):
    model, ds, logits = case
    mis = misclassifications(model, ds, method="input_x_gradient")
    pred = logits.argmax(axis=1)
    expected = np.zeros((K, K), dtype=np.int64)
    np.add.at(expected, (ds.y, pred), 1)
    np.testing.assert_array_equal(mis.confusion, expected)
    assert mis.n_misclassified == 8
    listed = sorted(int(i) for c in mis.cells for i in c.indices)
    assert listed == list(range(8))
    sizes = [c.count for c in mis.cells]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == 8
    probs = torch.softmax(torch.from_numpy(logits), 1).numpy()
    W = model.weight.detach().numpy()
    for cell in mis.cells:
        assert cell.true != cell.predicted
        assert (ds.y[cell.indices] == cell.true).all() and (
            pred[cell.indices] == cell.predicted
        ).all()
        assert (np.diff(cell.confidence) <= 0).all()  # most confident first
        np.testing.assert_allclose(cell.confidence, probs[cell.indices, cell.predicted], rtol=1e-5)
        np.testing.assert_allclose(cell.true_probability, probs[cell.indices, cell.true], rtol=1e-5)
        x = ds.X[cell.indices]
        np.testing.assert_allclose(cell.true_map, x * W[cell.true], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(cell.predicted_map, x * W[cell.predicted], rtol=1e-5, atol=1e-6)
        assert mis.cell(cell.true, cell.predicted) is cell
    assert mis.cell(0, 0) is None
    assert mis.method == "input_x_gradient" and mis.classes == ("a", "b", "c")


def test_max_per_cell_keeps_the_most_confident(case):
    model, ds, _ = case
    every = misclassifications(model, ds, method="input_x_gradient")
    capped = misclassifications(model, ds, method="input_x_gradient", max_per_cell=1)
    for full, one in zip(every.cells, capped.cells, strict=True):
        assert one.count == full.count and len(one) == 1
        assert one.indices[0] == full.indices[0]
        np.testing.assert_allclose(one.true_map[0], full.true_map[0])


def test_no_mistakes_no_cells(case):
    model, ds, logits = case
    right = tx.data.Dataset(ds.X, logits.argmax(axis=1), classes=ds.classes)
    mis = misclassifications(model, right, method="saliency")
    assert mis.cells == () and mis.n_misclassified == 0
    assert mis.confusion.trace() == 40


def test_bad_requests_are_refused(case):
    model, ds, _ = case
    with pytest.raises(tx.TsExplainError, match="Dataset"):
        misclassifications(model, ds.X)
    with pytest.raises(tx.TsExplainError, match="max_per_cell"):
        misclassifications(model, ds, max_per_cell=0)
    with pytest.raises(tx.TsExplainError, match="unknown"):
        misclassifications(model, ds, method="no_such_method")
