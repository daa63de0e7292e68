"""``captum:<Name>``: any Captum attribution class behind tsexplain's call signature.

N. Kokhlikyan et al., "Captum: A unified and generic model interpretability library for
PyTorch", arXiv:2009.07896, 2020. ``get_method("captum:Saliency")`` returns a method class that
builds ``captum.attr.Saliency`` on the model and runs its ``attribute`` on every batch with the
target and, for tsexplain models, the lengths (as an additional forward argument, so Captum
expands them with the inputs). Hyperparameters go to the constructor: ``init={...}`` for
Captum's constructor, the other keywords for ``attribute`` (``n_steps=``,
``sliding_window_shapes=``, ...). Layer attributions (``LayerGradCam``, ...) take ``layer=``
(default: Grad-CAM's layer); their ``(N, K, T')`` output is summed over ``K`` and mapped to
input time like Grad-CAM's. Classes that cannot run behind this call (those that hook the
network's ReLU modules, need per-layer rules, wrap another attribution, attribute single
neurons or explain language models) are refused with the reason (:data:`UNSUPPORTED`). Captum
is an optional extra: ``pip install "tsexplain[captum]"``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.explain._engine import model_scope
from tsexplain.explain._hooks import find_layer
from tsexplain.explain._receptive import default_layer, layer_to_input
from tsexplain.explain.base import Method
from tsexplain.series.adapter import call_model

__all__ = ["CAPTUM_PREFIX", "UNSUPPORTED", "CaptumMethod", "captum_classes", "captum_method"]

CAPTUM_PREFIX = "captum:"

_CACHE: dict[str, type[Method]] = {}

_HOOKS_RELU = (
    "hooks the network's own ReLU modules, which the bridge cannot reach through tsexplain's "
    "model call; use integrated_gradients or captum:IntegratedGradients"
)
#: Captum classes that cannot run behind tsexplain's call, with the reason and what to use.
UNSUPPORTED: dict[str, str] = {
    "DataLoaderAttribution": "attributes a whole data loader, not a batch of series",
    "Deconvolution": _HOOKS_RELU,
    "DeepLift": _HOOKS_RELU,
    "DeepLiftShap": _HOOKS_RELU,
    "GuidedBackprop": _HOOKS_RELU,
    "GuidedGradCam": _HOOKS_RELU,
    "LayerActivation": "returns a layer's activations, not attributions of a class",
    "LayerDeepLift": _HOOKS_RELU,
    "LayerDeepLiftShap": _HOOKS_RELU,
    "LayerFeaturePermutation": (
        "needs a layer output of shape (cases, features), and tsexplain's layers keep a time "
        "axis; use captum:LayerFeatureAblation or feature_ablation"
    ),
    "LayerLRP": "needs a propagation rule for every layer of the network; use captum:LayerGradCam",
    "LimeBase": "needs user functions for sampling and similarity; use captum:Lime or lime_segments",
    "LLMAttribution": "explains language models (it needs a tokenizer)",
    "LLMGradientAttribution": "explains language models (it needs a tokenizer)",
    "LRP": (
        "needs a propagation rule for every layer of the network; use integrated_gradients or "
        "captum:IntegratedGradients"
    ),
    "NoiseTunnel": (
        "wraps another attribution object, which a name cannot give; use smoothgrad "
        "(noise-averaged gradients)"
    ),
    "RemoteLLMAttribution": "explains language models served elsewhere",
}
_NEURON = (
    "attributes one neuron of a layer (neuron_selector), not a class score; use the "
    "Layer or plain variant"
)


def _captum_attr() -> Any:
    try:
        import captum.attr as attr
    except ImportError:
        raise TsExplainError(
            "captum:<Name> methods need Captum, which is not installed; "
            'install it with: pip install "tsexplain[captum]"'
        ) from None
    return attr


def _unsupported(attr: Any, name: str) -> str | None:
    """Why ``captum.attr.<name>`` cannot run behind tsexplain's call, or ``None`` if it can."""
    if name in UNSUPPORTED:
        return UNSUPPORTED[name]
    cls = getattr(attr, name, None)
    if isinstance(cls, type) and issubclass(cls, attr.NeuronAttribution):
        return _NEURON
    return None


def captum_classes() -> list[str]:
    """Names of the attribution classes of the installed Captum that run through the bridge
    (those in :data:`UNSUPPORTED` and the neuron attributions are left out)."""
    attr = _captum_attr()
    bases = {
        "Attribution",
        "GradientAttribution",
        "PerturbationAttribution",
        "LayerAttribution",
        "NeuronAttribution",
    }
    return sorted(
        n
        for n in dir(attr)
        if n not in bases
        and isinstance(getattr(attr, n), type)
        and issubclass(getattr(attr, n), attr.Attribution)
        and _unsupported(attr, n) is None
    )


#: Captum's classes that integrate gradients along a path from a baseline, so that their
#: attributions sum to f(x) - f(baseline) (completeness applies)
PATH_CLASSES = ("IntegratedGradients", "LayerIntegratedGradients")


def captum_method(name: str) -> type[Method]:
    """The tsexplain method class wrapping ``captum.attr.<name>`` (created once, then cached)."""
    if name in _CACHE:
        return _CACHE[name]
    attr = _captum_attr()
    cls = getattr(attr, name, None)
    why = _unsupported(attr, name) if isinstance(cls, type) else None
    if why is not None:
        raise TsExplainError(f"captum:{name} cannot run through tsexplain: it {why}")
    if (
        not (isinstance(cls, type) and issubclass(cls, attr.Attribution))
        or name not in captum_classes()
    ):
        options = ", ".join(captum_classes())
        raise TsExplainError(
            f"Captum has no attribution class {name!r}; use captum:<Name> with one of: {options}"
        )
    is_layer = issubclass(cls, attr.LayerAttribution)
    needs_layer = is_layer or issubclass(cls, attr.NeuronAttribution)
    method = type(
        f"Captum{name}",
        (CaptumMethod,),
        {
            "name": CAPTUM_PREFIX + name,
            "description": f"Captum's {name} through the tsexplain call",
            "resolution": "time" if is_layer else "channel-time",
            "captum_class": cls,
            "is_layer": is_layer,
            "needs_layer": needs_layer,
            "gradient_based": issubclass(cls, attr.GradientAttribution),
            "path_method": name in PATH_CLASSES,
        },
    )
    _CACHE[name] = method
    return method


class CaptumMethod(Method):
    """Base of the ``captum:<Name>`` methods (made by :func:`captum_method`).

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits.
    layer : str, optional
        The layer of a layer or neuron attribution (default: Grad-CAM's default layer).
    init : dict, optional
        Keywords for the Captum class's constructor (e.g. ``{"multiply_by_inputs": False}``).
    **attribute_kwargs
        Keywords for its ``attribute`` (``n_steps``, ``baselines``, ``sliding_window_shapes``,
        ...); ``target`` and ``additional_forward_args`` are set by tsexplain.

    Notes
    -----
    Runs in evaluation mode with frozen parameters (restored after). Returns ``(n_cases,
    n_channels, n_timepoints)``; padded steps are zeroed afterwards, but a Captum method that
    perturbs or samples over the whole axis may let padding change real steps.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> ex = tx.explain(model, ds, method="captum:IntegratedGradients", n_steps=8)
    >>> ex.attributions.shape
    (4, 3, 120)
    """

    captum_class: ClassVar[Any] = None
    is_layer: ClassVar[bool] = False
    needs_layer: ClassVar[bool] = False
    gradient_based: ClassVar[bool] = False
    open_settings = True  # Captum's attribute() keywords pass through

    def __init__(
        self,
        model: nn.Module,
        layer: str | None = None,
        init: dict[str, Any] | None = None,
        **attribute_kwargs: Any,
    ) -> None:
        self.check_model(model)
        bad = {"target", "additional_forward_args", "inputs"} & set(attribute_kwargs)
        if bad:
            raise TsExplainError(
                f"{sorted(bad)} are set by tsexplain; pass target= to the call instead"
            )
        if self.needs_layer:
            layer = default_layer(model) if layer is None else layer
            find_layer(model, layer)
        elif layer is not None:
            raise TsExplainError(f"{self.name} is not a layer attribution; drop layer=")
        params: dict[str, Any] = {"layer": layer} if layer is not None else {}
        params.update(
            {
                k: v
                for k, v in attribute_kwargs.items()
                if isinstance(v, (int, float, str, bool, tuple, list))
            }
        )
        super().__init__(model, **params)
        self.layer, self.init, self.attribute_kwargs = layer, dict(init or {}), attribute_kwargs

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        model = self.model
        assert isinstance(model, nn.Module)

        def forward(inputs: torch.Tensor, lens: torch.Tensor | None = None) -> torch.Tensor:
            return call_model(model, inputs, lens, padding)

        with model_scope(model):
            with torch.no_grad():
                logits = call_model(model, x, lengths, padding)
            if target is None:
                target = logits.argmax(-1)
            args = [find_layer(model, self.layer)] if self.layer is not None else []
            try:
                explainer = self.captum_class(forward, *args, **self.init)
                kw = dict(self.attribute_kwargs)
                if lengths is not None:
                    kw["additional_forward_args"] = (lengths,)
                # gradient methods get an input that already requires grad (else Captum warns)
                inputs = x.detach().requires_grad_(True) if self.gradient_based else x
                with torch.enable_grad():
                    out = explainer.attribute(inputs, target=target, **kw)
            except TypeError as exc:
                raise TsExplainError(f"bad arguments for {self.name}: {exc}") from None
        if isinstance(out, tuple):
            out = out[0]
        out = out.detach()
        if self.is_layer:
            return self._to_input(out, x, lengths, padding), logits
        if out.shape != x.shape:
            raise TsExplainError(
                f"{self.name} returned shape {tuple(out.shape)}, not the input's {tuple(x.shape)}; "
                "only attributions of the input (or of a layer's time axis) can be used"
            )
        return out, logits

    def _to_input(
        self, out: torch.Tensor, x: torch.Tensor, lengths: torch.Tensor | None, padding: str
    ) -> torch.Tensor:
        """Sum a layer attribution ``(N, K, T')`` over ``K`` and map it to input time."""
        if out.dim() != 3:
            raise TsExplainError(
                f"{self.name} returned shape {tuple(out.shape)}; expected (cases, features, time)"
            )
        assert isinstance(self.model, nn.Module) and self.layer is not None
        mapped = layer_to_input(self.model, self.layer, out.sum(1), x.shape, lengths, padding)
        n, c, t = x.shape
        return mapped[:, None, :].expand(n, c, t).contiguous()
