"""The result of explaining a batch: attributions plus everything needed to read them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._npz import read_npz, write_npz
from tsexplain.errors import TsExplainError

__all__ = ["Explanation"]

_FORMAT = "tsexplain.explanation/1"


@dataclass(eq=False)
class Explanation:
    """Attributions of one method for a batch of series.

    Attributes
    ----------
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
        Float32 relevance of every input value for ``target``; exactly zero on padded steps.
    method : str
        Registry name of the method.
    target : ndarray of shape (n_cases,)
        The class explained for each case.
    predicted : ndarray of shape (n_cases,)
        The model's predicted class.
    probabilities : ndarray of shape (n_cases, n_classes)
        The model's class probabilities.
    lengths : ndarray of shape (n_cases,)
        Real steps per case; ``padding`` says on which side the pad sits.
    resolution : {"time", "channel-time"}
        ``"time"`` when the map only resolves time and is broadcast over channels.
    params : dict
        The method's hyperparameters (JSON-serialisable).
    diagnostics : dict
        What the run reported about itself (JSON-serialisable), e.g. Integrated Gradients'
        ``{"completeness": {"median_relative_gap": ..., "max_relative_gap": ...}}``.
    """

    attributions: np.ndarray
    method: str
    target: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray
    lengths: np.ndarray
    padding: str = "right"
    resolution: str = "channel-time"
    params: dict[str, Any] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def n_cases(self) -> int:
        return int(self.attributions.shape[0])

    def __repr__(self) -> str:
        return (
            f"Explanation({self.method!r}, {self.n_cases} cases, shape "
            f"{tuple(self.attributions.shape)}, resolution={self.resolution!r})"
        )

    def subset(self, index: np.ndarray | list[int]) -> Explanation:
        idx = np.asarray(index)
        return Explanation(
            self.attributions[idx],
            self.method,
            self.target[idx],
            self.predicted[idx],
            self.probabilities[idx],
            self.lengths[idx],
            self.padding,
            self.resolution,
            dict(self.params),
            dict(self.diagnostics),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to one ``.npz`` (atomically, no pickled objects)."""
        header = {
            "format": _FORMAT,
            "method": self.method,
            "padding": self.padding,
            "resolution": self.resolution,
            "params": self.params,
            "diagnostics": self.diagnostics,
        }
        arrays = {
            "attributions": self.attributions,
            "target": self.target,
            "predicted": self.predicted,
            "probabilities": self.probabilities,
            "lengths": self.lengths,
        }
        return write_npz(path, arrays, header)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Explanation:
        """Read an explanation written by :meth:`save`."""
        arrays, header = read_npz(path, "an explanation")
        try:
            if header.get("format") != _FORMAT:
                raise KeyError("format")
            return cls(
                arrays["attributions"],
                header["method"],
                arrays["target"],
                arrays["predicted"],
                arrays["probabilities"],
                arrays["lengths"],
                header["padding"],
                header["resolution"],
                header.get("params", {}),
                header.get("diagnostics", {}),
            )
        except KeyError as exc:
            raise TsExplainError(
                f"{path}: not an explanation file written by tsexplain (missing {exc})"
            ) from None
