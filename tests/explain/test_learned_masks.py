"""Dynamask and ExtremalMask: known answers, determinism, reported steps, padding, errors.

The generic contract (shape, padding, hooks, mode) is in ``test_contract.py``; here, a model
whose answer is known by construction: its logit reads channel 0, steps 10 to 19 only, through
alternating weights, so a blur (Dynamask) or a learned replacement (ExtremalMask) of anything
else leaves the prediction untouched, and the mask must sit on those ten cells.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.data.padding import pad_series
from tsexplain.explain.base import check_hyperparameters
from tsexplain.explain.dynamask import Dynamask, gaussian_blur
from tsexplain.explain.extremal_mask import ExtremalMask

REGION = (0, slice(10, 20))


class Region(nn.Module):
    """Logits ``(s, -s)`` with ``s = 0.3 * sum_t w_t x[0, t]`` over steps 10..19, ``w`` = +1,
    -1, ... (a pattern any smoothing wipes out). It takes no ``lengths``: padded input reaches it
    cut to the real steps."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(0.3 * torch.tensor([1.0, -1.0] * 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = (x[:, 0, 10:20] * self.w).sum(-1)
        return torch.stack([s, -s], dim=-1)


def _cases(n: int, seed: int = 0) -> np.ndarray:
    """``n`` series ``(2, 40)`` of noise whose region carries the alternating pattern, with a
    random sign (so both classes are predicted)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2, 40)).astype(np.float32)
    sign = np.where(rng.random((n, 1)) < 0.5, 1.0, -1.0)
    X[:, 0, 10:20] = np.abs(X[:, 0, 10:20]) * np.array([1.0, -1.0] * 5) * sign
    return X


def _region_mass(a: np.ndarray) -> np.ndarray:
    """Share of each case's attribution that falls in the known region."""
    return a[:, REGION[0], REGION[1]].sum(-1) / a.reshape(len(a), -1).sum(-1)


def test_dynamask_finds_the_region():
    X = _cases(8)
    a = Dynamask(Region(), area=0.125, n_epochs=300)(X)
    assert a.min() >= 0 and a.max() <= 1
    assert _region_mass(a).min() > 0.8
    inside, outside = a[:, 0, 10:20], np.concatenate([a[:, 0, :10], a[:, 0, 20:], a[:, 1]], -1)
    assert inside.mean() > 0.8 and outside.mean() < 0.05


def test_extremal_mask_finds_the_region():
    X = _cases(6)
    a = ExtremalMask(Region(), n_epochs=150)(X)
    assert a.min() >= 0 and a.max() <= 1
    assert _region_mass(a).min() > 0.8
    inside, outside = a[:, 0, 10:20], np.concatenate([a[:, 0, :10], a[:, 0, 20:], a[:, 1]], -1)
    assert inside.max(-1).min() > 0.5 and outside.max() < 0.1


def test_extremal_mask_is_deterministic_given_the_seed():
    X = _cases(3)
    m0 = ExtremalMask(Region(), n_epochs=15, seed=3)
    a = m0(X)
    np.testing.assert_array_equal(a, ExtremalMask(Region(), n_epochs=15, seed=3)(X))
    assert not np.allclose(a, ExtremalMask(Region(), n_epochs=15, seed=4)(X))
    # a case's map does not depend on its batch
    np.testing.assert_allclose(m0(X[1:2])[0], a[1], rtol=1e-5, atol=1e-6)


def test_dynamask_is_deterministic():
    X = _cases(3)
    np.testing.assert_array_equal(
        Dynamask(Region(), n_epochs=10)(X), Dynamask(Region(), n_epochs=10)(X)
    )


@pytest.mark.parametrize("method", ["dynamask", "extremal_mask"])
def test_steps_and_final_loss_are_reported(method):
    X = _cases(5)
    ex = tx.explain(Region(), X, method=method, n_epochs=7, batch_size=2)
    d = ex.diagnostics
    assert d["steps"] == 7 and d["batches"] == 3
    assert np.isfinite(d["final_loss"])
    assert method in tx.explain_methods()


def test_final_loss_per_case_follows_case_order():
    X = _cases(4)
    m = Dynamask(Region(), n_epochs=5)
    m(X)
    alone = Dynamask(Region(), n_epochs=5)
    alone(X[2:3])
    assert m.final_loss_ is not None and alone.final_loss_ is not None
    np.testing.assert_allclose(m.final_loss_[2], alone.final_loss_[0], rtol=1e-5)


@pytest.mark.parametrize("padding", ["left", "right"])
@pytest.mark.parametrize("cls", [Dynamask, ExtremalMask])
def test_padding_is_never_masked_or_read(cls, padding):
    """A model without ``lengths`` sees each case cut to its real steps; the mask is zero on the
    pad and equals the unpadded case's mask on the real steps."""
    X = _cases(3)
    lengths = np.array([40, 31, 24])
    real = [X[i, :, : lengths[i]] for i in range(3)]
    padded, lens = pad_series(real, padding=padding, n_timepoints=44)
    a = cls(Region(), n_epochs=8)(padded, lengths=lens, padding=padding)
    for i, r in enumerate(real):
        alone = cls(Region(), n_epochs=8)(r[None])[0]
        sl = slice(44 - lengths[i], 44) if padding == "left" else slice(0, lengths[i])
        np.testing.assert_allclose(a[i, :, sl], alone, rtol=1e-4, atol=1e-6)
        rest = np.ones(44, bool)
        rest[sl] = False
        assert np.all(a[i, :, rest] == 0)


def test_gaussian_blur_keeps_masked_values_and_never_reads_the_pad():
    x = torch.randn(2, 3, 30)
    real = torch.ones(2, 1, 30, dtype=torch.bool)
    torch.testing.assert_close(gaussian_blur(x, torch.ones_like(x), real, 2.0), x)
    # at mask 0 a constant series stays constant; the pad (here a huge value) is never read
    const = torch.full((1, 1, 30), 5.0)
    const[..., 20:] = 1e6
    part = torch.arange(30)[None, None, :] < 20
    out = gaussian_blur(const, torch.zeros_like(const), part, 2.0)
    torch.testing.assert_close(out[..., :20], torch.full((1, 1, 20), 5.0))
    assert torch.equal(out[..., 20:], const[..., 20:])
    # at mask 0 it is a normalised Gaussian smoothing of width sigma_max
    smooth = gaussian_blur(x, torch.zeros_like(x), real, 1.0)
    d = torch.arange(-6, 7, dtype=torch.float32)
    w = torch.exp(-0.5 * (d / (1.0 + 1e-7)) ** 2)
    t = 15
    ref = (x[..., t - 6 : t + 7] * w).sum(-1) / w.sum()
    torch.testing.assert_close(smooth[..., t], ref)


def test_a_callable_model_gets_a_clear_error():
    for cls in (Dynamask, ExtremalMask):
        with pytest.raises(tx.TsExplainError, match="needs a torch.nn.Module"):
            cls(lambda X: np.tile([0.5, 0.5], (len(X), 1)))


@pytest.mark.parametrize(
    ("cls", "params", "match"),
    [
        (Dynamask, {"area": 0.0}, "0 < area <= 1"),
        (Dynamask, {"sigma_max": 0.0}, "sigma_max > 0"),
        (Dynamask, {"mode": "keep"}, "unknown mode"),
        (Dynamask, {"loss": "l1"}, "unknown loss"),
        (Dynamask, {"n_epochs": 0}, "n_epochs >= 1"),
        (ExtremalMask, {"optimizer": "lbfgs"}, "unknown optimizer"),
        (ExtremalMask, {"lambda_1": -1.0}, "lambda_1, lambda_2 >= 0"),
        (ExtremalMask, {"hidden_size": 0}, "hidden_size >= 1"),
    ],
)
def test_bad_settings_are_refused(cls, params, match):
    with pytest.raises(tx.TsExplainError, match=match):
        cls(Region(), **params)


def test_settings_are_checked_by_name_and_kind():
    with pytest.raises(tx.TsExplainError, match="has no setting 'epochs'"):
        check_hyperparameters(Dynamask, {"epochs": 5})
    with pytest.raises(tx.TsExplainError, match="area"):
        check_hyperparameters(Dynamask, {"area": "half"})
    check_hyperparameters(ExtremalMask, {"n_epochs": 5, "seed": None, "hidden_size": 4})
