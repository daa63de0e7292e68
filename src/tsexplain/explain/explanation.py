"""The result of explaining a batch: attributions plus everything needed to read them."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to one ``.npz`` (atomically, no pickled objects)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        header = {
            "format": _FORMAT,
            "method": self.method,
            "padding": self.padding,
            "resolution": self.resolution,
            "params": self.params,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(
                    fh,
                    attributions=self.attributions,
                    target=self.target,
                    predicted=self.predicted,
                    probabilities=self.probabilities,
                    lengths=self.lengths,
                    header=np.array(json.dumps(header)),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Explanation:
        """Read an explanation written by :meth:`save`."""
        path = Path(path)
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
                header = json.loads(str(npz["header"]))
                if header.get("format") != _FORMAT:
                    raise KeyError("format")
                return cls(
                    npz["attributions"],
                    header["method"],
                    npz["target"],
                    npz["predicted"],
                    npz["probabilities"],
                    npz["lengths"],
                    header["padding"],
                    header["resolution"],
                    header.get("params", {}),
                )
        except FileNotFoundError:
            raise TsExplainError(f"{path}: no such file") from None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise TsExplainError(
                f"{path}: not an explanation file written by tsexplain ({type(exc).__name__}: {exc})"
            ) from None
