"""The generic contract of the metric registry, over every registered metric.

Each metric declares its group, direction, needs and levels once (``evaluate/registry.py``).
Every metric here must have a scenario (a better and a worse explanation of a tiny problem,
:data:`SCENARIOS`), so a metric added to a group's file is checked without anyone touching
this file's logic: its values are finite, they ignore padding, the better explanation wins in
the declared direction, and a missing need skips it with the reason (or, asked for by name,
raises with the fix), never a traceback.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.evaluate import evaluate
from tsexplain.evaluate.registry import (
    GROUPS,
    LEVELS,
    NEEDS,
    get_metric,
    group_runner,
    register_metric,
    registered,
)

FAST = {"n_boot": 0, "replacements": ("mean",), "units": ("point",), "n_steps": 8}
MAP_GROUPS = ("localization", "faithfulness", "cumulative", "complexity")


class Linear(nn.Module):
    """logit_k = sum(W_k * x): the contribution of cell (c, t) to class k is W_k[c, t] x[c, t]."""

    def __init__(self, weights: np.ndarray) -> None:
        super().__init__()
        k = weights.shape[0]
        self.linear = nn.Linear(weights[0].size, k, bias=False)
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(weights, dtype=torch.float32).reshape(k, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))


def _smooth(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random walks, scaled to unit size: series whose neighbouring steps are close."""
    walk = np.cumsum(rng.standard_normal(shape), axis=-1) / np.sqrt(shape[-1])
    return walk.astype(np.float32)


@pytest.fixture(scope="module")
def linear():
    """A linear model whose class-1 logit reads channel 0, steps 10-19 only (class 0: minus
    that), and smooth data it decides by that."""
    weight = np.zeros((2, 40), dtype=np.float32)
    weight[0, 10:20] = 1.0
    X = _smooth(np.random.default_rng(0), (24, 2, 40))
    model = Linear(np.stack([-weight, weight]))
    y = ((weight * X).sum(axis=(1, 2)) > 0).astype(np.int64)
    mask = np.broadcast_to(weight != 0, X.shape).copy()
    return model, tx.data.Dataset(X, y, mask=mask), weight


@pytest.fixture(scope="module")
def dense():
    """A linear model that reads every cell, with independent weights per class."""
    rng = np.random.default_rng(2)
    weights = rng.uniform(0.5, 1.5, (2, 2, 40)).astype(np.float32)
    X = rng.standard_normal((24, 2, 40)).astype(np.float32)
    y = (X * (weights[1] - weights[0])).sum(axis=(1, 2)) > 0
    return Linear(weights), tx.data.Dataset(X, y.astype(np.int64))


def _maps(linear):
    """The exact contributions (perfect) and a random map, as explanations of the same cases."""
    model, ds, weight = linear
    base = tx.explain(model, ds, method="saliency")
    sign = np.where(base.target == 1, 1.0, -1.0)[:, None, None]
    perfect = (sign * weight[None] * ds.X).astype(np.float32)
    noise = np.random.default_rng(1).standard_normal(ds.X.shape).astype(np.float32)
    return (
        replace(base, attributions=perfect, method="perfect"),
        replace(base, attributions=noise, method="random"),
    )


def _methods(good: dict, bad: dict, model: str = "dense"):
    return {"kind": "methods", "good": good, "bad": bad, "model": model}


#: metric -> how a better and a worse explanation are made; every registered metric has one
SCENARIOS: dict[str, dict] = {
    # a metric of a map alone: the model's exact contributions beat a random map
    **{name: {"kind": "maps"} for name, m in registered().items() if m.group in MAP_GROUPS},
    # a map that is the model's own weights decorrelates when they are randomized; one that
    # multiplies by the input keeps the input's pattern (Adebayo et al. 2018)
    "mprt": _methods({"method": "saliency"}, {"method": "input_x_gradient"}),
    "random_logit": _methods({"method": "saliency"}, {"method": "input_x_gradient"}),
    # the gradient of a linear model does not move with its input; gradient x input does
    "max_sensitivity": _methods({"method": "saliency"}, {"method": "input_x_gradient"}),
    # ... and gradient x input changes exactly as much as the input (RIS = 1), the gradient not
    "relative_input_stability": _methods({"method": "saliency"}, {"method": "input_x_gradient"}),
    "seed_stability": _methods(
        {"method": "smoothgrad", "n_samples": 64}, {"method": "smoothgrad", "n_samples": 2}, "cnn"
    ),
    # a finer path integrates more exactly (the linear model is exact at any step count)
    "completeness_gap": _methods(
        {"method": "integrated_gradients", "n_steps": 128},
        {"method": "integrated_gradients", "n_steps": 2},
        "cnn",
    ),
    "model_calls": _methods({"method": "saliency"}, {"method": "occlusion", "window": 1}, "cnn"),
    # a measured time: its direction is the one model_calls checks, and tests are never timed
    "wall_time": {"kind": "timed"},
}


def test_every_metric_declares_itself_and_has_a_scenario():
    metrics = registered()
    assert set(SCENARIOS) == set(metrics)  # a new metric needs a scenario here
    assert {m.group for m in metrics.values()} == set(GROUPS)
    for name, m in metrics.items():
        assert callable(group_runner(m.group))
        assert set(m.needs) <= set(NEEDS) and set(m.levels) <= set(LEVELS)
        assert m.describe().startswith(f"[{m.group}] ") and f"{m.direction} is better" in (
            m.describe()
        )
        assert get_metric(name) is m
    assert sum(m.pooled for m in metrics.values()) == 2  # the cost metrics: one value overall


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "auroc"}, "metric 'auroc' is declared twice"),
        ({"needs": ("gpu",)}, "metric 'new_metric': unknown need 'gpu'; the needs are"),
        ({"higher_is_better": None}, "metric 'new_metric' declares no direction"),
        ({"group": "beauty"}, "metric 'new_metric': unknown group 'beauty'"),
        ({"levels": ("series",)}, "metric 'new_metric': levels must be some of"),
        ({"definition": " "}, "metric 'new_metric' has no definition"),
    ],
)
def test_a_bad_declaration_fails_at_once_naming_the_metric(kwargs, message):
    declaration = {
        "name": "new_metric", "group": "complexity", "higher_is_better": True,
        "definition": "a metric", **kwargs,
    }  # fmt: skip
    before = dict(registered())
    with pytest.raises(TsExplainError, match=message):
        register_metric(declaration.pop("name"), **declaration)
    assert registered() == before  # nothing half-registered


def _value(table, method: str, metric: str) -> float:
    rows = [r for r in table.rows if r.method == method and r.metric == metric]
    rows = [r for r in rows if r.cls in ("macro", "all")]
    assert rows, (method, metric, table.skipped)
    return float(np.mean([r.value for r in rows]))


@pytest.fixture(scope="module")
def cnn():
    ds = tx.data.make_sensor_failure(16, min_length=36, max_length=44, failure_fraction=0.5, seed=3)
    model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, filters=(4, 8), seed=0)
    return model, ds


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_better_explanation_wins_in_the_declared_direction(name, linear, dense, cnn):
    scenario, metric = SCENARIOS[name], get_metric(name)
    if scenario["kind"] == "timed":
        pytest.skip("wall_time is a measured time; model_calls checks the cost's direction")
    if scenario["kind"] == "maps":
        model = linear[0]
        data = linear[1]
        good, bad = _maps(linear)
    else:
        model, data = dense if scenario["model"] == "dense" else cnn
        good, bad = (
            tx.explain(model, data, **{"seed": 0, **s} if s["method"] == "smoothgrad" else s)
            for s in (scenario["good"], scenario["bad"])
        )
    scores = []
    for ex in (good, bad):
        table = evaluate(model, data, ex, metrics=[name], seed=0, **FAST)
        value = _value(table, ex.method, name)
        assert np.isfinite(value), (name, ex.method)
        scores.append(value)
    better = scores[0] > scores[1] if metric.higher_is_better else scores[0] < scores[1]
    assert better, (name, metric.direction, scores)


def _padded_more(ds: tx.data.Dataset, extra: int) -> tx.data.Dataset:
    """``ds`` with ``extra`` more steps of padding, full of large values, on its pad side."""
    n, c, _ = ds.X.shape
    junk = np.full((n, c, extra), 1e3, dtype=np.float32)
    no = np.zeros((n, c, extra), dtype=bool)
    left = ds.padding == "left"
    X = np.concatenate([junk, ds.X] if left else [ds.X, junk], axis=2)
    mask = np.concatenate([no, ds.mask] if left else [ds.mask, no], axis=2)
    return tx.data.Dataset(
        X, ds.y, lengths=ds.lengths, padding=ds.padding, mask=mask, classes=ds.classes,
        channel_names=ds.channel_names,
    )  # fmt: skip


#: what a metric's value may depend on beyond the real steps: SmoothGrad's own noise (a
#: method's draws, one per value of the padded array) and the clock; the metrics' noise
#: (replacement, noisy copies) is drawn per case over real cells only
SHAPE_DEPENDENT = {"seed_stability", "wall_time"}


@pytest.mark.parametrize("name", sorted(set(SCENARIOS) - SHAPE_DEPENDENT))
def test_padding_is_ignored(name, cnn):
    model, ds = cnn
    assert (ds.lengths < ds.n_timepoints).any()
    method = "integrated_gradients" if name == "completeness_gap" else "saliency"
    values = []
    for data in (ds, _padded_more(ds, 15)):
        ex = tx.explain(model, data, method=method)
        options = {**FAST, "replacements": ("noise",)}  # the noise draws must ignore padding too
        table = evaluate(model, data, ex, metrics=[name], seed=0, window=4, **options)
        values.append(
            sorted((r.level, r.variant, r.cls, r.value) for r in table.rows if r.metric == name)
        )
    assert len(values[0]) == len(values[1]) > 0
    for a, b in zip(*values, strict=True):
        assert a[:3] == b[:3]
        assert a[3] == pytest.approx(b[3], rel=1e-4, abs=1e-6, nan_ok=True), (name, a, b)


def _missing(need: str, needs: tuple[str, ...], cnn):
    """(model, data, explanation) lacking ``need`` only, of a metric that ``needs`` these."""
    model, ds = cnn
    method = "saliency"  # neither a path method nor stochastic
    if "path_method" in needs and need != "path_method":
        method = "integrated_gradients"
    if "stochastic" in needs and need != "stochastic":
        method = "smoothgrad"
    ex = tx.explain(model, ds, method=method)
    if need == "mask":
        bare = tx.data.Dataset(ds.X, ds.y, lengths=ds.lengths, padding=ds.padding)
        return model, bare, ex
    if need == "module":
        net = model

        def predict_proba(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return torch.softmax(net(torch.as_tensor(x)), dim=1).numpy()

        return predict_proba, ds, ex
    if need == "rerun":
        return model, ds, replace(ex, method="my_own_method")
    return model, ds, ex


@pytest.mark.parametrize(
    "name, need",
    [(n, need) for n, m in sorted(registered().items()) for need in m.needs],
)
def test_a_missing_need_skips_with_the_reason_or_says_the_fix(name, need, cnn):
    model, data, ex = _missing(need, get_metric(name).needs, cnn)
    try:
        table = evaluate(model, data, ex, metrics=[name], seed=0, **FAST)
    except TsExplainError as exc:  # asked for by name: the input the user must give
        assert need in ("mask", "module", "rerun"), (name, need, str(exc))
        assert name in str(exc) and ";" in str(exc)  # what is missing; what to do
        return
    assert need in ("path_method", "stochastic")  # what the method is only ever skips
    assert not [r for r in table.rows if r.metric == name]
    reason = table.skipped[f"{ex.method}/{name}"]
    assert "path method" in reason or "deterministic" in reason


def test_unnamed_metrics_whose_needs_are_missing_are_skipped(cnn):
    """Without naming metrics: a callable model and data without a mask skip what needs them,
    with the reason, and the rest is computed."""
    model, ds = cnn
    bare = tx.data.Dataset(ds.X[:6], ds.y[:6], lengths=ds.lengths[:6], padding=ds.padding)
    ex = tx.explain(model, bare, method="saliency")

    def predict_proba(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model(torch.as_tensor(x)), dim=1).numpy()

    table = evaluate(predict_proba, bare, ex, seed=0, max_cases=3, **FAST)
    computed = {r.metric for r in table.rows}
    for name, metric in registered().items():
        if name in computed:
            continue
        reason = table.skipped[f"saliency/{name}"]
        assert metric.needs and reason, name
    assert {"deletion_auc", "gini", "cpd"} <= computed
    assert (
        "needs a torch.nn.Module to be re-run, and the model is a callable"
        in table.skipped["saliency/mprt"]
    )
    assert "no ground-truth mask" in table.skipped["saliency/auroc"]


def test_relative_input_stability_known_answers():
    """Gradient x input of a linear model changes exactly as the input does (RIS = 1); its
    gradient does not change (0); copies whose prediction flips do not count; padded cells
    are not cells."""
    from tsexplain.evaluate.robustness import relative_input_stability

    rng = np.random.default_rng(0)
    w = rng.uniform(0.5, 1.5, (1, 2, 6))
    x = rng.standard_normal((1, 2, 6))
    noisy = x[None] + 0.05 * rng.standard_normal((4, 1, 2, 6))
    kept = np.ones((4, 1), dtype=bool)
    lengths = np.array([6])
    ris = relative_input_stability(x, noisy, w * x, w * noisy, kept, lengths, "right")
    assert ris == pytest.approx([1.0])
    still = relative_input_stability(
        x, noisy, w, np.broadcast_to(w, noisy.shape), kept, lengths, "right"
    )
    assert still == pytest.approx([0.0])
    none = relative_input_stability(x, noisy, w * x, w * noisy, ~kept, lengths, "right")
    assert np.isnan(none).all()
    # junk on two padded steps (left padding) changes nothing
    pad = np.concatenate([np.full((1, 2, 2), 1e3), x], axis=2)
    noisy_pad = np.concatenate([np.full((4, 1, 2, 2), -1e3), noisy], axis=3)
    mapped = np.concatenate([np.full((1, 2, 2), 7.0), w * x], axis=2)
    mapped_noisy = np.concatenate([np.full((4, 1, 2, 2), -7.0), w * noisy], axis=3)
    padded = relative_input_stability(pad, noisy_pad, mapped, mapped_noisy, kept, lengths, "left")
    assert padded == pytest.approx(ris)
