"""The function a method explains is exactly the function a metric scores.

Explanation methods and faithfulness metrics call the model through the one adapter of
``tsexplain.series`` and replace parts of a series with its one ``fill``; these tests hold them
to it for modules and callables, lengths-aware or not, left and right padding, and every
replacement strategy.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import tsexplain as tx
from tsexplain.data.padding import pad_series
from tsexplain.evaluate.perturb import REPLACEMENTS
from tsexplain.explain import get_method
from tsexplain.series import FILLS

eval_perturb = importlib.import_module("tsexplain.evaluate.perturb")
explain_perturb = importlib.import_module("tsexplain.explain._perturb")
ig_module = importlib.import_module("tsexplain.explain.integrated_gradients")
segments_module = importlib.import_module("tsexplain.explain.segments")
series_fill = importlib.import_module("tsexplain.series.fill")


def _model():
    return tx.models.build("causal_cnn", 2, 3, seed=0, filters=(4, 8)).eval()


def _proba_unaware(model):
    """A predict_proba-like callable that knows nothing of lengths (sees real steps only)."""

    def proba(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(X)), -1).double().numpy()

    return proba


def _proba_aware(model):
    """A predict_proba-like callable that takes lengths and padding."""

    def proba(X: np.ndarray, lengths=None, padding="right") -> np.ndarray:
        lens = None if lengths is None else torch.from_numpy(np.asarray(lengths))
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(X), lens, padding), -1).double().numpy()

    return proba


def _padded(padding: str):
    rng = np.random.default_rng(3)
    series = [rng.normal(size=(2, n)).astype(np.float32) for n in (30, 22, 17, 30)]
    X, lengths = pad_series(series, padding=padding, n_timepoints=30)
    return X, lengths


KINDS = ["module", "callable", "callable_with_lengths"]


def _as(kind: str, model):
    return {
        "module": model,
        "callable": _proba_unaware(model),
        "callable_with_lengths": _proba_aware(model),
    }[kind]


@pytest.mark.parametrize("strategy", REPLACEMENTS)
@pytest.mark.parametrize("padding", ["left", "right"])
@pytest.mark.parametrize("kind", KINDS)
def test_explained_and_evaluated_probabilities_agree(kind, padding, strategy):
    X, lengths = _padded(padding)
    f = _as(kind, _model())
    ex = tx.explain(f, X, method="occlusion", lengths=lengths, padding=padding, window=5)
    table = tx.evaluate(
        f,
        X,
        ex,
        metrics=["deletion_auc"],
        lengths=lengths,
        padding=padding,
        replacements=(strategy,),
        units=("point",),
        n_boot=0,
    )
    explained = ex.probabilities[np.arange(len(X)), ex.target]
    deletion = next(c for c in table.curves if c.kind == "deletion")
    insertion = next(c for c in table.curves if c.kind == "insertion")
    # nothing deleted, everything inserted: the intact series, scored as the method scored it
    np.testing.assert_allclose(deletion.values[:, 0], explained, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(insertion.values[:, -1], explained, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("padding", ["left", "right"])
def test_callable_and_module_are_one_function(padding):
    """A length-unaware callable wrapping the model sees each case's real steps, as a
    length-unaware module does; both give the unpadded series' probabilities."""
    X, lengths = _padded(padding)
    model = _model()
    ex_call = tx.explain(
        _proba_unaware(model), X, method="occlusion", lengths=lengths, padding=padding, window=5
    )
    for i, n in enumerate(lengths):
        sl = slice(30 - n, 30) if padding == "left" else slice(0, n)
        alone = tx.explain(_proba_unaware(model), X[i : i + 1, :, sl], method="occlusion", window=5)
        np.testing.assert_allclose(ex_call.probabilities[i], alone.probabilities[0], rtol=1e-6)
        np.testing.assert_allclose(
            ex_call.attributions[i, :, sl], alone.attributions[0], rtol=1e-4, atol=1e-6
        )


def test_one_fill_serves_methods_baselines_and_metrics():
    one = series_fill.fill
    assert explain_perturb.fill is one  # occlusion and feature ablation (PerturbationMethod.drops)
    assert segments_module.fill is one  # Kernel SHAP and LIME over segments
    assert ig_module.fill is one  # Integrated Gradients' baselines
    assert eval_perturb.fill is one  # deletion / insertion curves
    assert tuple(REPLACEMENTS) == tuple(FILLS) == ("zero", "mean", "noise", "linear")


def test_integrated_gradients_mean_baseline_is_the_fill():
    X, lengths = _padded("left")
    model = _model()
    method = get_method("integrated_gradients")(model, baseline="mean")
    x, lens = torch.from_numpy(X), torch.from_numpy(lengths)
    real = tx.series.real_steps(x, lens, "left")
    expected = series_fill.fill(x, real, "mean", real=real)
    torch.testing.assert_close(method.baselines(x, lens, "left"), expected)
    # each real step holds its channel's mean over the real steps, the pad stays zero
    i = 2
    n = lengths[i]
    assert torch.allclose(expected[i, :, -n:], x[i, :, -n:].mean(-1, keepdim=True).expand(-1, n))
    assert (expected[i, :, : 30 - n] == 0).all()
