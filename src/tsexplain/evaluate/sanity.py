"""Sanity checks: an explanation must depend on the model's weights and on the explained class.

- **Cascading model-parameter randomization** (MPRT; J. Adebayo et al., "Sanity checks for
  saliency maps", NeurIPS 2018): starting from the output layer, the layers with weights are
  re-initialised one after another, cumulatively, on a copy of the model; after each step the
  method explains the same cases for the same targets and the map is compared with the
  original one by Spearman rank correlation (:mod:`tsexplain.evaluate.similarity`). A method
  that passes drops towards 0 as layers are randomized; one that stays high explains the input,
  not the model.
- **Random logit** (L. Sixt, M. Granz and T. Landgraf, "When explanations lie: Why many modified
  BP attributions fail", ICML 2020): the rank correlation between the map for the explained
  class and the map for a randomly chosen *other* class. Lower means more class-sensitive.

The original model is never modified: randomization happens on a deep copy. A "layer" is a
module with a weight matrix of its own (``Conv1d``, ``Linear``, recurrent layers), re-initialised
by its ``reset_parameters`` under a seed; normalisation layers keep their parameters. A model
whose weights live elsewhere (a Keras model on the PyTorch backend) names its layers itself
with a ``randomizable_layers()`` method and re-initialises one with
``reinitialize_layer(name, seed)``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from tsexplain._context import seeded
from tsexplain.evaluate.aggregate import subseed
from tsexplain.evaluate.job import EvalJob
from tsexplain.evaluate.registry import metric_group, register_metric
from tsexplain.evaluate.similarity import rank_correlation

__all__ = ["cascading_randomization", "random_other_class", "randomizable_layers"]


def randomizable_layers(model: nn.Module) -> list[str]:
    """Names of the modules with their own weight matrix, output layer first.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    >>> randomizable_layers(net)
    ['3', '0']
    """
    own = getattr(model, "randomizable_layers", None)
    if callable(own):
        return list(own())
    names = []
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if name and hasattr(module, "reset_parameters") and any(p.dim() >= 2 for p in own):
            names.append(name)
    return names[::-1]


def cascading_randomization(model: nn.Module, seed: int = 0) -> Iterator[tuple[str, nn.Module]]:
    """Yield ``(layer name, model copy)`` with the first 1, 2, ... layers (output first)
    re-initialised; the same copy is randomized further at each step."""
    randomized = copy.deepcopy(model)
    modules = dict(randomized.named_modules())
    own = getattr(randomized, "reinitialize_layer", None)
    for i, name in enumerate(randomizable_layers(model)):
        with seeded(seed + i), torch.no_grad():
            if callable(own):
                own(name, seed + i)
            else:
                modules[name].reset_parameters()
        yield name, randomized


def random_other_class(target: np.ndarray, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """For each target, a class drawn uniformly from the other ``n_classes - 1``."""
    shift = rng.integers(1, n_classes, size=len(target))
    return (np.asarray(target) + shift) % n_classes


# ---------------------------------------------------------------------------- the registry
register_metric(
    "mprt",
    group="sanity",
    higher_is_better=False,
    needs=("rerun", "module"),
    definition="rank correlation with the map after randomizing layers, output first",
    source="Adebayo et al., NeurIPS 2018",
)
register_metric(
    "random_logit",
    group="sanity",
    higher_is_better=False,
    needs=("rerun",),
    definition="rank correlation with the map of a random other class",
    source="Sixt et al., ICML 2020",
)


@metric_group("sanity")
def run_sanity(job: EvalJob, names: list[str]) -> None:
    idx = job.subset
    X, lens, tgt = job.X[idx], job.lengths[idx], job.ex.target[idx].astype(np.int64)
    original = job.ex.attributions[idx]
    level = job.own_level
    if "mprt" in names:
        n_layers = len(randomizable_layers(job.model))
        if not n_layers:
            job.skip("mprt", "the model has no layer with a weight matrix to randomize")
        # The copy is randomized further at each step: explain it before taking the next one.
        for k, (name, randomized) in enumerate(
            cascading_randomization(job.model, subseed(job.seed, "mprt"))
        ):
            a = job.runner(randomized, X, lens, job.padding, tgt, torch_seed=job.seed)
            rho = rank_correlation(original, a, lens, job.padding, level, job.config.absolute)
            job.add(
                "mprt", rho, level=level, variant=f"layers={k + 1}/{n_layers}:{name}", index=idx
            )
    if "random_logit" in names:
        n_classes = job.ex.probabilities.shape[1]
        rng = np.random.default_rng(subseed(job.seed, "random-logit"))
        other = random_other_class(tgt, n_classes, rng)
        a = job.runner(job.model, X, lens, job.padding, other, torch_seed=job.seed)
        rho = rank_correlation(original, a, lens, job.padding, level, job.config.absolute)
        job.add("random_logit", rho, level=level, index=idx)
