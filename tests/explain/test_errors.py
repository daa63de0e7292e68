"""Bad input ends in one TsExplainError that names the problem and the fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_helpers import build_tiny, hook_count
from torch import nn

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.explain import get_method
from tsexplain.explain.cam import CAM
from tsexplain.explain.gradcam import GradCAM
from tsexplain.explain.gradcam_channel import ChannelGradCAM
from tsexplain.explain.gradcam_pp import GradCAMPlusPlus
from tsexplain.explain.integrated_gradients import IntegratedGradients
from tsexplain.explain.lstm_gradcam import LSTMGradCAM
from tsexplain.explain.occlusion import Occlusion
from tsexplain.explain.segments import ShapSegments


def test_unknown_method_lists_the_choices(series):
    model = build_tiny("causal_cnn")
    with pytest.raises(
        TsExplainError,
        match=r"unknown explanation method 'saliancy'; choose one of: .*'saliency'.*'captum:<Name>'",
    ):
        tx.explain(model, series, method="saliancy")
    with pytest.raises(TsExplainError, match="unknown explanation method"):
        tx.explain(model, series, method=["saliency", "nope"])


@pytest.mark.parametrize("cls", [GradCAM, GradCAMPlusPlus, ChannelGradCAM, CAM, LSTMGradCAM])
def test_a_layer_that_does_not_exist_names_the_layers(cls):
    model = build_tiny("lstm")
    with pytest.raises(
        TsExplainError,
        match=r"no layer named 'blocks\.7'; layers with a time axis include: .*hidden",
    ):
        cls(model, layer="blocks.7")


@pytest.mark.parametrize("cls", [GradCAM, GradCAMPlusPlus, ChannelGradCAM, CAM])
def test_grad_cam_on_a_model_without_conv_layer(cls):
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(2 * 24, 3))
    with pytest.raises(
        TsExplainError,
        match="needs a convolutional or recurrent layer.*use a gradient method such as 'saliency'",
    ):
        cls(mlp)


@pytest.mark.parametrize("model_name", ["causal_cnn", "fcn", "resnet"])
def test_lstm_method_on_a_cnn(model_name, series):
    model = build_tiny(model_name)
    with pytest.raises(
        TsExplainError, match="needs a recurrent layer.*use 'gradcam' for convolutional models"
    ):
        LSTMGradCAM(model)
    with pytest.raises(TsExplainError, match="needs a recurrent layer"):
        tx.explain(model, series, method="lstm_gradcam")


def test_window_longer_than_the_series(series):
    model = build_tiny("causal_cnn")
    model.train()
    with pytest.raises(
        TsExplainError,
        match=r"window \(20 steps\) is longer than the series: case 1 has 12 real steps; use window <= 12",
    ):
        Occlusion(model, window=20)(series, lengths=np.array([24, 12, 20]))
    assert model.training and hook_count(model) == 0  # side effects undone after the error
    with pytest.raises(TsExplainError, match="window <= 24"):
        tx.explain(model, series, method="occlusion", window=30)
    with pytest.raises(TsExplainError, match="1 <= stride <= window"):
        Occlusion(model, window=4, stride=6)


@pytest.mark.parametrize(
    "method", ["saliency", "gradcam_channel", "integrated_gradients", "occlusion", "shap_segments"]
)
def test_target_out_of_range(method, series):
    model = build_tiny("causal_cnn")
    with pytest.raises(
        TsExplainError, match=r"target class 3 is out of range: the model has 3 classes \(0 to 2\)"
    ):
        tx.explain(model, series, method=method, target=3)
    with pytest.raises(TsExplainError, match="out of range"):
        tx.explain(model, series, method=method, target=np.array([0, -1, 2]))
    with pytest.raises(TsExplainError, match="class indices"):
        tx.explain(model, series, method=method, target=np.array([0, 1]))


def test_cam_needs_a_gap_linear_head(series):
    class MaxHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(2, 4, 3, padding=1)
            self.fc = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.conv(x).amax(-1))  # max pooling, not average

    model = MaxHead()
    with pytest.raises(
        TsExplainError,
        match="CAM needs the logits to be 'fc' applied to the time-average of layer 'conv'.*use 'gradcam'",
    ):
        CAM(model)(series)
    assert hook_count(model) == 0
    convs_only = nn.Sequential(nn.Conv1d(2, 3, 3), nn.AdaptiveAvgPool1d(1), nn.Flatten())
    with pytest.raises(TsExplainError, match="no torch.nn.Linear; use 'gradcam'"):
        CAM(convs_only)


def test_bad_hyperparameters(series):
    model = build_tiny("causal_cnn")
    with pytest.raises(TsExplainError, match="unknown baseline 'median'"):
        IntegratedGradients(model, baseline="median")
    with pytest.raises(TsExplainError, match="unknown integration rule 'simpson'"):
        IntegratedGradients(model, rule="simpson")
    with pytest.raises(TsExplainError, match=r"give shape \(2,\) or \(2, 24\)"):
        IntegratedGradients(model, baseline=np.zeros(5))(series)
    with pytest.raises(TsExplainError, match="unknown fill 'noise'"):
        Occlusion(model, fill="noise")
    with pytest.raises(TsExplainError, match="unknown output"):
        ShapSegments(model, output="logits")
    with pytest.raises(
        TsExplainError, match="saliency has no setting 'window'; its settings are: absolute=True"
    ):
        tx.explain(model, series, method="saliency", window=3)
    with pytest.raises(
        TsExplainError, match="occlusion setting window must be an integer, got 'abc'"
    ):
        tx.explain(model, series, method="occlusion", window="abc")
    with pytest.raises(TsExplainError, match="setting relu must be true or false"):
        tx.explain(model, series, method=["gradcam", "saliency"], gradcam={"relu": 1})
    with pytest.raises(TsExplainError, match="needs a torch.nn.Module"):
        get_method("saliency")(lambda X: X)


def test_a_callable_with_the_wrong_output_shape(series):
    with pytest.raises(
        TsExplainError,
        match=r"must return numeric scores of shape \(n_cases, n_classes\)",
    ):
        tx.explain(lambda X: X.sum(axis=(1, 2)), series, method="shap_segments")
