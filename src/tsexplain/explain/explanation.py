"""The result of explaining a batch: attributions, and the series they explain."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._npz import read_npz, write_npz
from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError

__all__ = ["Explanation"]

_FORMAT = "tsexplain.explanation/2"
#: the formats :meth:`Explanation.load` reads (version 1 holds no series)
_FORMATS = ("tsexplain.explanation/1", _FORMAT)
_NO_DATA = (
    "holds no series (it was written before explanations carried their data, or made "
    "without them); explain the data again with tsexplain explain / tx.explain"
)


@dataclass(eq=False)
class Explanation:
    """Attributions of one method for a batch of series, with the series they explain.

    An explanation knows what it explains: the series as the model saw them, their lengths,
    padding, class and channel names, true classes and ground-truth mask when known. Slice it
    like an array of cases and channels: ``ex[3]`` (case 3, as a one-case explanation),
    ``ex[ex.predicted != ex.target]``, ``ex[:10]``, ``ex[:, "sensor 2"]`` (one channel, by
    name or number).

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
    X : ndarray of shape (n_cases, n_channels, n_timepoints), optional
        The series explained, as the model saw them (normalised as it was trained); ``None``
        for a file written before explanations carried their data.
    y : ndarray of shape (n_cases,), optional
        The true class of each case, when known.
    classes : tuple of str
        Class names in the model's order (empty when the model names none).
    channel_names : tuple of str
        Channel names (empty for a file written before explanations carried them).
    mask : bool ndarray of shape (n_cases, n_channels, n_timepoints), optional
        Ground-truth relevance, when the data has it.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(20, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> ex = tx.explain(model, ds, method="saliency")
    >>> ex[3].n_cases, ex[:, "sensor 2"].attributions.shape, ex[:, "sensor 2"].channel_names
    (1, (20, 1, 120), ('sensor 2',))
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
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    classes: tuple[str, ...] = ()
    channel_names: tuple[str, ...] = ()
    mask: np.ndarray | None = None

    @property
    def n_cases(self) -> int:
        return int(self.attributions.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.attributions.shape[1])

    @property
    def has_data(self) -> bool:
        """Whether the explained series travel with the attributions."""
        return self.X is not None

    def dataset(self) -> Dataset:
        """The explained cases as a :class:`~tsexplain.data.Dataset` (what
        :mod:`tsexplain.summarize` and :mod:`tsexplain.plot` read beside the explanation)."""
        if self.X is None:
            raise TsExplainError(f"this {self.method} explanation {_NO_DATA}")
        return Dataset(
            self.X,
            self.y,
            lengths=self.lengths,
            padding=self.padding,
            classes=self.classes or None,  # type: ignore[arg-type]
            channel_names=self.channel_names or None,  # type: ignore[arg-type]
            mask=self.mask,
        )

    # ------------------------------------------------------------------ views
    # An explanation draws itself with the plot layer's functions, imported when a view is
    # asked for (never when this module loads), so the layers stay in order.

    def plot(self, i: int = 0, *, title: str | None = None, ax: Any = None, **options: Any) -> Any:
        """Draw case ``i``: each channel as a line coloured by its attribution over the
        case's real steps, the ground-truth region shaded, the method, the case and its
        predicted (and true) class in the title.

        Parameters
        ----------
        i : int
            The case (negative counts from the end).
        title : str, optional
            Instead of the method, the case and its classes.
        ax : Axes or sequence of Axes, optional
            One per channel; a new figure when not given.
        **options
            ``cmap``, ``absolute``, ``vmax``, ``colorbar`` of
            :func:`tsexplain.plot.plot_attribution`.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from tsexplain.plot import plot_attribution

        case = int(self._case_index(i)[0])
        if self.X is None:
            raise TsExplainError(f"cannot draw case {i}: this {self.method} explanation {_NO_DATA}")
        if title is None:
            truth = "" if self.y is None else f", true {self.class_name(self.y[case])}"
            predicted = self.class_name(self.predicted[case])
            title = f"{self.method}: case {case}, predicted {predicted}{truth}"
        return plot_attribution(
            self.X[case],
            self.attributions[case],
            length=int(self.lengths[case]),
            padding=self.padding,
            mask=None if self.mask is None else self.mask[case],
            channel_names=self._names,
            title=title,
            ax=ax,
            **options,
        )

    def plot_class(
        self, c: int | str | None = None, *, by: str | None = None, ax: Any = None, **options: Any
    ) -> Any:
        """Draw the class average: per class (``c``, a name or number; default every class
        with cases) the mean series of each channel with its 10-90% band, coloured by the
        mean attribution (:func:`tsexplain.summarize.class_averages`).

        ``by`` groups the cases: ``"true"`` (the default when the true classes are known),
        ``"predicted"`` (the default otherwise) or ``"correct"``. ``options`` go to
        :func:`tsexplain.plot.plot_class_average` (``absolute``, ``cmap``, ``vmax``).
        """
        from tsexplain.plot import plot_class_average
        from tsexplain.summarize import class_averages

        if self.X is None:
            raise TsExplainError(
                f"cannot draw a class average: this {self.method} explanation {_NO_DATA}"
            )
        if by is None:
            by = "predicted" if self.y is None else "true"
        averages = class_averages(self, self.dataset(), by=by)
        chosen = None if c is None else [c]
        return plot_class_average(averages, chosen, ax=ax, **options)

    def view(self, i: int | None = None, *, max_cases: int | None = 200, seed: int = 0) -> Any:
        """The interactive case browser as a :class:`~tsexplain.report.View`: pick a case (or
        filter to a true or predicted class, or to the misclassified), every channel drawn as
        a line coloured by attribution, the ground-truth region shaded, the class
        probabilities beside. Self-contained (a small script drawing SVG, nothing fetched).

        Parameters
        ----------
        i : int, optional
            The case shown first (default the first).
        max_cases : int or None
            Most cases embedded (default 200, about 0.8 MB for 3 channels x 120 steps;
            ``None``: all). Larger explanations embed a sample in which every true x
            predicted cell appears, and the view says so.
        seed : int
            Seeds that sample.

        Returns
        -------
        View
            Shown inline by a notebook; ``.save("view.html")`` writes it as a page.
        """
        from tsexplain.report import explanation_view

        if self.X is None:
            raise TsExplainError(f"cannot show this {self.method} explanation: it {_NO_DATA}")
        return explanation_view(self, i, max_cases=max_cases, seed=seed)

    def show(self, i: int | None = None, *, max_cases: int | None = 200, seed: int = 0) -> None:
        """Display :meth:`view` in the running notebook (needs IPython)."""
        from tsexplain.report import display

        display(self.view(i, max_cases=max_cases, seed=seed))

    def _repr_html_(self) -> str | None:
        """A notebook's rich display: the case browser (``None``, so the text repr shows,
        for an explanation saved without its series)."""
        return self.view()._repr_html_() if self.has_data else None

    @property
    def _names(self) -> tuple[str, ...]:
        """The channel names (``ch0``, ``ch1``, ... for a file that holds none)."""
        return self.channel_names or tuple(f"ch{i}" for i in range(self.n_channels))

    def class_name(self, k: int) -> str:
        """Class ``k`` by name (by number when the model names no classes)."""
        return self.classes[int(k)] if 0 <= int(k) < len(self.classes) else str(int(k))

    def __len__(self) -> int:
        return self.n_cases

    def __getitem__(self, key: Any) -> Explanation:
        """Cases, and optionally channels: ``ex[i]``, ``ex[bool_mask]``, ``ex[2:5]``,
        ``ex[[0, 4]]``, ``ex[:, "name"]``, ``ex[:, ["a", "b"]]``, ``ex[:, 0]``."""
        if isinstance(key, tuple):
            if len(key) != 2:
                raise TsExplainError(
                    f"an explanation is indexed by cases and channels (ex[cases, channels]), "
                    f"got {len(key)} indices"
                )
            cases, channels = key
            return self[cases]._channels(channels)
        return self.subset(self._case_index(key))

    def _case_index(self, key: Any) -> np.ndarray:
        n = self.n_cases
        if isinstance(key, slice):
            return np.arange(n)[key]
        if isinstance(key, int | np.integer) and not isinstance(key, bool):
            if not -n <= int(key) < n:
                raise TsExplainError(
                    f"case {int(key)} is out of range: the explanation holds {n} cases "
                    f"(0 to {n - 1})"
                )
            return np.array([int(key) % n])
        idx = np.asarray(key)
        if idx.dtype == bool:
            if idx.shape != (n,):
                raise TsExplainError(
                    f"a boolean case selection needs {n} values, one per case, got shape "
                    f"{idx.shape}"
                )
            return np.flatnonzero(idx)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise TsExplainError(
                "select cases with a number, a slice, a list of numbers or a boolean array, "
                f"got {key!r}"
            )
        bad = idx[(idx < -n) | (idx >= n)]
        if bad.size:
            raise TsExplainError(
                f"case {int(bad[0])} is out of range: the explanation holds {n} cases "
                f"(0 to {n - 1})"
            )
        return idx % n

    def _channels(self, key: Any) -> Explanation:
        """The same cases, only the channels ``key`` (names or numbers) in that order."""
        if isinstance(key, slice):
            chosen = list(range(self.n_channels))[key]
        else:
            items = [key] if isinstance(key, str | int | np.integer) else list(key)
            chosen = [self._channel(item) for item in items]
        names = self._names
        return replace(
            self,
            attributions=self.attributions[:, chosen],
            X=None if self.X is None else self.X[:, chosen],
            mask=None if self.mask is None else self.mask[:, chosen],
            channel_names=tuple(names[c] for c in chosen),
        )

    def _channel(self, item: Any) -> int:
        names = self._names
        if isinstance(item, str):
            if item not in names:
                raise TsExplainError(f"no channel named {item!r}; the channels are {list(names)}")
            return names.index(item)
        if isinstance(item, int | np.integer) and not isinstance(item, bool):
            if not -self.n_channels <= int(item) < self.n_channels:
                raise TsExplainError(
                    f"channel {int(item)} is out of range: the explanation has "
                    f"{self.n_channels} channel(s)"
                )
            return int(item) % self.n_channels
        raise TsExplainError(f"select channels by name or number, got {item!r}")

    def __repr__(self) -> str:
        data = "with its series" if self.has_data else "without its series"
        return (
            f"Explanation({self.method!r}, {self.n_cases} cases, shape "
            f"{tuple(self.attributions.shape)}, resolution={self.resolution!r}, {data})"
        )

    def subset(self, index: np.ndarray | list[int]) -> Explanation:
        """The cases at ``index`` (integer indices), everything else alike."""
        idx = np.asarray(index)
        return replace(
            self,
            attributions=self.attributions[idx],
            target=self.target[idx],
            predicted=self.predicted[idx],
            probabilities=self.probabilities[idx],
            lengths=self.lengths[idx],
            params=dict(self.params),
            diagnostics=dict(self.diagnostics),
            X=None if self.X is None else self.X[idx],
            y=None if self.y is None else self.y[idx],
            mask=None if self.mask is None else self.mask[idx],
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to one ``.npz`` (atomically, no pickled objects), the series with it."""
        header = {
            "format": _FORMAT,
            "method": self.method,
            "padding": self.padding,
            "resolution": self.resolution,
            "params": self.params,
            "diagnostics": self.diagnostics,
            "classes": list(self.classes),
            "channel_names": list(self.channel_names),
        }
        arrays = {
            "attributions": self.attributions,
            "target": self.target,
            "predicted": self.predicted,
            "probabilities": self.probabilities,
            "lengths": self.lengths,
        }
        for key in ("X", "y", "mask"):
            value = getattr(self, key)
            if value is not None:
                arrays[key] = value
        return write_npz(path, arrays, header)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Explanation:
        """Read an explanation written by :meth:`save` (files of earlier versions, which
        hold no series, too)."""
        arrays, header = read_npz(path, "an explanation")
        try:
            if header.get("format") not in _FORMATS:
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
                X=arrays.get("X"),
                y=arrays.get("y"),
                classes=tuple(header.get("classes", ())),
                channel_names=tuple(header.get("channel_names", ())),
                mask=arrays.get("mask"),
            )
        except KeyError as exc:
            raise TsExplainError(
                f"{path}: not an explanation file written by tsexplain (missing {exc})"
            ) from None
