"""Property tests: every registered method on every model it can explain, over random shapes.

For random channel and class counts, case counts, real lengths, pad widths, padding sides and
targets, a method's map has the input's shape, is finite, is exactly zero on the pad, and
equals on each case's real steps what the method gives that case alone, unpadded.
``TSX_PROPERTY_EXAMPLES`` raises the number of examples per method (default 15).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from explain_helpers import build_tiny, inapplicable, one_thread, tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsexplain as tx
from tsexplain.data.padding import pad_series, real_mask
from tsexplain.explain import get_method

METHODS = tx.explain_methods()
MODELS = tx.models.available_models()
#: the models each method can explain, as the method declares
SUITS = {
    method: [name for name in MODELS if inapplicable(method, build_tiny(name)) is None]
    for method in METHODS
}

PROPERTY = settings(
    max_examples=int(os.environ.get("TSX_PROPERTY_EXAMPLES", "15")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@st.composite
def problems(draw: st.DrawFn, models: list[str]) -> dict:
    n_cases = draw(st.integers(1, 3), label="n_cases")
    lengths = draw(st.lists(st.integers(10, 26), min_size=n_cases, max_size=n_cases))
    n_classes = draw(st.integers(2, 4), label="n_classes")
    return {
        "model": draw(st.sampled_from(models), label="model"),
        "n_channels": draw(st.integers(1, 3), label="n_channels"),
        "n_classes": n_classes,
        "lengths": np.array(lengths),
        "pad": draw(st.integers(0, 5), label="pad"),
        "padding": draw(st.sampled_from(["left", "right"]), label="padding"),
        "target": np.array(
            draw(st.lists(st.integers(0, n_classes - 1), min_size=n_cases, max_size=n_cases))
        ),
        "seed": draw(st.integers(0, 2**16), label="seed"),
    }


def test_every_method_explains_some_model() -> None:
    assert all(SUITS.values()), [m for m, names in SUITS.items() if not names]


@pytest.mark.parametrize("method", METHODS)
@PROPERTY
@given(data=st.data())
def test_random_shapes_give_exact_padded_maps(method: str, data: st.DataObject) -> None:
    problem = data.draw(problems(SUITS[method]), label="problem")
    name, lengths = problem["model"], problem["lengths"]
    model = tx.models.build(
        name,
        problem["n_channels"],
        problem["n_classes"],
        seed=problem["seed"] % 7,
        **tx.models.model_class(name).tiny,
    )
    assert inapplicable(method, model) is None
    rng = np.random.default_rng(problem["seed"])
    real = [rng.normal(size=(problem["n_channels"], int(n))).astype(np.float32) for n in lengths]
    T = int(lengths.max()) + problem["pad"]
    X, lens = pad_series(real, padding=problem["padding"], n_timepoints=T)
    target = problem["target"]
    explain = get_method(method)
    with one_thread():
        padded = explain(model, **tiny(method))(
            X, target=target, lengths=lens, padding=problem["padding"]
        )
        assert padded.shape == X.shape and padded.dtype == np.float32
        assert np.all(np.isfinite(padded))
        keep = np.broadcast_to(real_mask(lens, T, problem["padding"])[:, None, :], X.shape)
        assert np.all(padded[~keep] == 0)
        for i, r in enumerate(real):
            alone = explain(model, **tiny(method))(r[None], target=target[i : i + 1])[0]
            n = int(lengths[i])
            got = padded[i, :, T - n :] if problem["padding"] == "left" else padded[i, :, :n]
            scale = float(np.abs(alone).max())
            np.testing.assert_allclose(got, alone, rtol=1e-4, atol=1e-5 * scale + 1e-7)
