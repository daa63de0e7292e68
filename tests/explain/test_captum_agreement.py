"""Numerical agreement with Captum (the oracle) on random float64 models and inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_helpers import build_tiny

from tsexplain.explain._engine import gradient_pass
from tsexplain.explain._hooks import find_layer
from tsexplain.explain.gradcam import GradCAM
from tsexplain.explain.input_x_gradient import InputXGradient
from tsexplain.explain.integrated_gradients import IntegratedGradients
from tsexplain.explain.occlusion import Occlusion
from tsexplain.explain.saliency import Saliency
from tsexplain.series import model_scope as explaining

captum_attr = pytest.importorskip("captum.attr")

MODELS = ["causal_cnn", "fcn", "resnet", "lstm"]
TOL = 1e-5


def rel_err(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    """max |ours - theirs| / max |theirs|."""
    ours, theirs = ours.detach(), theirs.detach()
    return float((ours - theirs).abs().max() / theirs.abs().max())


@pytest.fixture(params=MODELS)
def case(request):
    model = build_tiny(request.param, seed=2, dtype=torch.float64).eval()
    x = torch.from_numpy(np.random.default_rng(3).normal(size=(3, 2, 24)))
    return model, x, torch.tensor([0, 2, 1])


def grad_input(x: torch.Tensor) -> torch.Tensor:
    """Captum's gradient methods warn unless the input already requires grad."""
    return x.clone().requires_grad_(True)


def test_saliency_and_input_x_gradient(case):
    model, x, t = case
    ours = Saliency(model).attribute(x, t, None, "right")[0]
    theirs = captum_attr.Saliency(model).attribute(grad_input(x), target=t, abs=True)
    assert rel_err(ours, theirs) <= TOL
    ours = InputXGradient(model).attribute(x, t, None, "right")[0]
    theirs = captum_attr.InputXGradient(model).attribute(grad_input(x), target=t)
    assert rel_err(ours, theirs) <= TOL


@pytest.mark.parametrize(
    "rule", ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle"]
)
def test_integrated_gradients_same_rule(case, rule):
    model, x, t = case
    ig = IntegratedGradients(model, n_steps=12, rule=rule, internal_batch_size=7)
    ours = ig.attribute(x, t, None, "right")[0]
    theirs = captum_attr.IntegratedGradients(model).attribute(
        x, baselines=0.0, target=t, n_steps=12, method=rule
    )
    assert rel_err(ours, theirs) <= TOL


def test_integrated_gradients_trapezoid_and_baseline(case):
    model, x, t = case
    # Captum's trapezoid uses step 1/n instead of 1/(n-1): its result is (n-1)/n of ours.
    n = 10
    ours = IntegratedGradients(model, n_steps=n, rule="riemann_trapezoid").attribute(
        x, t, None, "right"
    )[0]
    theirs = captum_attr.IntegratedGradients(model).attribute(
        x, target=t, n_steps=n, method="riemann_trapezoid"
    )
    assert rel_err(ours * (n - 1) / n, theirs) <= TOL
    base = np.array([0.5, -0.25])
    ours = IntegratedGradients(model, baseline=base, n_steps=n).attribute(x, t, None, "right")[0]
    theirs = captum_attr.IntegratedGradients(model).attribute(
        x, baselines=torch.from_numpy(base)[None, :, None].expand_as(x), target=t, n_steps=n
    )
    assert rel_err(ours, theirs) <= TOL


@pytest.mark.parametrize(
    ("window", "stride", "fill", "channels"),
    [
        (5, 3, "zero", "each"),
        (4, 4, "mean", "each"),
        (6, 2, "zero", "all"),
    ],
)
def test_occlusion(case, window, stride, fill, channels):
    model, x, t = case
    ours = Occlusion(model, window=window, stride=stride, fill=fill, channels=channels).attribute(
        x, t, None, "right"
    )[0]
    base: float | torch.Tensor = 0.0 if fill == "zero" else x.mean(-1, keepdim=True).expand_as(x)
    c = x.shape[1] if channels == "all" else 1
    theirs = captum_attr.Occlusion(model).attribute(
        x,
        sliding_window_shapes=(c, window),
        strides=(1, stride),
        baselines=base,
        target=t,
        perturbations_per_eval=8,
    )
    assert rel_err(ours, theirs) <= TOL


@pytest.mark.parametrize("relu", [False, True])
def test_layer_gradcam_before_mapping(case, relu):
    model, x, t = case
    g = GradCAM(model, relu=relu)
    with explaining(model):
        p = gradient_pass(model, x, t, None, "right", [g.layer], False)
    ours = g.layer_map(p)
    theirs = captum_attr.LayerGradCam(model, find_layer(model, g.layer)).attribute(
        grad_input(x), target=t, relu_attributions=relu
    )[:, 0]
    assert ours.shape == theirs.shape
    assert rel_err(ours, theirs) <= TOL
