"""The data set every layer works on: series, their labels when known, and what they are."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from tsexplain._npz import read_npz, write_npz
from tsexplain.data.padding import real_mask, repad
from tsexplain.errors import (
    TsExplainError,
    check_finite,
    check_lengths,
    check_padding,
    check_series,
)

__all__ = ["Dataset"]

_NPZ_FORMAT = "tsexplain.dataset/1"
_CASE_INFO = "case_info/"  # prefix of the per-case arrays in a saved data set


def _check_case_info(info: Mapping[str, Any], n_cases: int) -> Mapping[str, np.ndarray]:
    """``info`` as a read-only mapping of read-only 1-D arrays of ``n_cases`` numbers, booleans
    or strings (storable without pickling)."""
    if not isinstance(info, Mapping):
        raise TsExplainError(
            f"case_info must map names to per-case arrays, got {type(info).__name__}"
        )
    out: dict[str, np.ndarray] = {}
    for key, values in info.items():
        if not isinstance(key, str) or not key or "/" in key:
            raise TsExplainError(
                f"case_info names must be non-empty strings without '/', got {key!r}"
            )
        try:
            arr = np.array(values)  # a copy: the caller's array may change, ours may not
        except ValueError:
            raise TsExplainError(
                f"case_info[{key!r}] must hold one value per case, got a ragged sequence"
            ) from None
        strings = arr.dtype == object and all(isinstance(v, str) for v in arr.ravel())
        if strings or arr.dtype.kind == "T":  # "T": NumPy's variable-width strings
            arr = arr.astype(str)
        if arr.shape != (n_cases,):
            raise TsExplainError(
                f"case_info[{key!r}] must hold one value per case, shape ({n_cases},), "
                f"got {arr.shape}"
            )
        if arr.dtype.kind not in "biufUS":
            raise TsExplainError(
                f"case_info[{key!r}] must hold numbers, booleans or strings, got dtype {arr.dtype}"
            )
        arr.setflags(write=False)
        out[key] = arr
    return MappingProxyType(out)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Possibly padded, multichannel series, labelled or not.

    Parameters
    ----------
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
        Float32 values, channels first. Padded steps hold zeros.
    y : ndarray of shape (n_cases,), or None
        Integer class indices into ``classes``; ``None`` for new data whose classes are not
        known (a deployed model's inputs). Such a data set can be explained, predicted and
        shown; what needs the true class (training, accuracy, ``target="true"``) says so.
    lengths : ndarray of shape (n_cases,), optional
        Real (unpadded) steps per case; defaults to ``n_timepoints`` for every case.
    padding : {"right", "left"}
        Where the pad sits in each padded case.
    classes : sequence of str, optional
        Class names; defaults to ``"0", "1", ...`` (none for unlabelled data until a model's
        classes are given by :meth:`with_classes`).
    channel_names : sequence of str, optional
        Channel names; defaults to ``"ch0", "ch1", ...``.
    mask : ndarray of bool, shape (n_cases, n_channels, n_timepoints), optional
        Ground-truth relevance (e.g. an injected failure). Metrics use it; methods never do.
    name : str
        A label for reports.
    meta : dict
        Free-form, JSON-serialisable provenance of the whole set (generator parameters,
        source file, ...).
    case_info : dict of str to ndarray of shape (n_cases,)
        Per-case facts (a beat's record and sample, a case id, an injected failure's start):
        numbers, booleans or strings, one per case, kept in step with the cases by
        :meth:`subset`, :meth:`split` and storage.

    Examples
    --------
    >>> ds = Dataset(np.zeros((4, 2, 10)), np.array([0, 1, 0, 1]))
    >>> ds.n_cases, ds.n_channels, ds.n_timepoints, ds.classes
    (4, 2, 10, ('0', '1'))
    """

    X: np.ndarray
    y: np.ndarray | None
    lengths: np.ndarray = None  # type: ignore[assignment]
    padding: str = "right"
    classes: tuple[str, ...] = None  # type: ignore[assignment]
    channel_names: tuple[str, ...] = None  # type: ignore[assignment]
    mask: np.ndarray | None = None
    name: str = "dataset"
    meta: dict[str, Any] = field(default_factory=dict)
    case_info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        X = check_series(self.X)
        n, c, t = X.shape
        padding = check_padding(self.padding)
        lengths = check_lengths(self.lengths, n, t)
        valid = real_mask(lengths, t, padding)[:, None, :]
        check_finite(X, valid=np.broadcast_to(valid, X.shape))
        X = np.where(valid, X, np.float32(0)).astype(np.float32)

        y, classes = self._labels(n)
        channel_names = (
            tuple(f"ch{i}" for i in range(c))
            if self.channel_names is None
            else tuple(str(s) for s in self.channel_names)
        )
        if len(channel_names) != c:
            raise TsExplainError(f"channel_names has {len(channel_names)} names for {c} channel(s)")
        mask = self.mask
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != X.shape:
                raise TsExplainError(f"mask must have the shape of X {X.shape}, got {mask.shape}")
            mask = mask.astype(bool) & valid
        case_info = _check_case_info(self.case_info, n)
        for key, value in (
            ("X", X),
            ("y", y),
            ("lengths", lengths),
            ("padding", padding),
            ("classes", classes),
            ("channel_names", channel_names),
            ("mask", mask),
            ("case_info", case_info),
        ):
            object.__setattr__(self, key, value)

    def _labels(self, n: int) -> tuple[np.ndarray | None, tuple[str, ...]]:
        """``y`` as int64 class indices (or ``None``) and the class names, checked."""
        if self.y is None:
            names = () if self.classes is None else tuple(str(s) for s in self.classes)
            return None, names
        y = np.asarray(self.y)
        if y.shape != (n,):
            raise TsExplainError(f"y must have shape ({n},), one label per case, got {y.shape}")
        if not np.issubdtype(y.dtype, np.integer):
            raise TsExplainError(
                f"y must hold integer class indices, got dtype {y.dtype}; "
                "use tsexplain.data.encode_labels to map names to indices"
            )
        y = y.astype(np.int64)
        classes = (
            tuple(str(i) for i in range(int(y.max()) + 1))
            if self.classes is None
            else tuple(str(s) for s in self.classes)
        )
        if y.min() < 0 or y.max() >= len(classes):
            raise TsExplainError(
                f"labels must lie in [0, {len(classes) - 1}] for {len(classes)} classes, "
                f"got values from {y.min()} to {y.max()}"
            )
        return y, classes

    # ------------------------------------------------------------------ shape vocabulary
    @property
    def n_cases(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_timepoints(self) -> int:
        return int(self.X.shape[2])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def labelled(self) -> bool:
        """Whether the true class of every case is known."""
        return self.y is not None

    def labels(self, needed_for: str) -> np.ndarray:
        """``y``, or a :class:`TsExplainError` saying that ``needed_for`` needs labels and how
        to give them.

        >>> Dataset(np.zeros((2, 1, 5)), None).labels("training")
        Traceback (most recent call last):
        ...
        tsexplain.errors.TsExplainError: training needs the true class of each case, and the data 'dataset' has no labels; give a file with labels (for a .npy array: --labels FILE, labels= in Python)
        """
        if self.y is None:
            raise TsExplainError(
                f"{needed_for} needs the true class of each case, and the data {self.name!r} "
                "has no labels; give a file with labels (for a .npy array: --labels FILE, "
                "labels= in Python)"
            )
        return self.y

    def __len__(self) -> int:
        return self.n_cases

    def __repr__(self) -> str:
        lengths = (
            f"{self.lengths.min()}-{self.lengths.max()}"
            if self.lengths.min() != self.lengths.max()
            else str(self.n_timepoints)
        )
        return (
            f"Dataset({self.name!r}: {self.n_cases} cases x {self.n_channels} channels x "
            f"{self.n_timepoints} steps (lengths {lengths}, {self.padding} padding), "
            + (f"classes {list(self.classes)}" if self.labelled else "unlabelled")
            + f", mask={'yes' if self.mask is not None else 'no'})"
        )

    # ------------------------------------------------------------------ views
    def real_mask(self) -> np.ndarray:
        """Boolean ``(n_cases, n_timepoints)``, true on real steps."""
        return real_mask(self.lengths, self.n_timepoints, self.padding)

    def class_counts(self) -> np.ndarray:
        """Cases per class, ``(n_classes,)``."""
        return np.bincount(self.labels("counting cases per class"), minlength=self.n_classes)

    def subset(self, index: Sequence[int] | np.ndarray) -> Dataset:
        """The cases at ``index`` (integer indices or a boolean mask), same metadata."""
        idx = np.asarray(index)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return replace(
            self,
            X=self.X[idx],
            y=None if self.y is None else self.y[idx],
            lengths=self.lengths[idx],
            mask=None if self.mask is None else self.mask[idx],
            case_info={key: values[idx] for key, values in self.case_info.items()},
        )

    def with_padding(self, padding: str) -> Dataset:
        """The same cases with the pad moved to ``padding`` (``"left"`` or ``"right"``)."""
        padding = check_padding(padding)
        if padding == self.padding:
            return self
        mask = None if self.mask is None else repad(self.mask, self.lengths, self.padding, padding)
        return replace(
            self,
            X=repad(self.X, self.lengths, self.padding, padding),
            padding=padding,
            mask=mask,
        )

    def with_classes(self, classes: Sequence[str]) -> Dataset:
        """The same cases labelled in the class order ``classes`` (matched by name).

        Use it to score a model on a file whose labels were read in another order, or that
        holds only some of the classes. A data set without class names (its classes are the
        default ``"0", "1", ...``, none of them in ``classes``) holds class indices, which keep
        their values and take the names ``classes``. Raises when a case's class is not in
        ``classes``.
        """
        if isinstance(classes, str):
            raise TsExplainError(f"classes must be a sequence of names, got the string {classes!r}")
        names = tuple(str(c) for c in classes)
        if len(set(names)) != len(names):
            raise TsExplainError(f"classes must not repeat a name, got {list(names)}")
        if names == self.classes:
            return self
        if self.y is None:  # new data: the classes it will be scored or explained against
            return replace(self, classes=names)
        as_indices = tuple(str(i) for i in range(self.n_classes))
        if self.classes == as_indices and not set(as_indices) & set(names):
            if self.n_classes > len(names):
                raise TsExplainError(
                    f"the labels run up to {self.n_classes - 1}, more classes than the "
                    f"{len(names)} named {list(names)}"
                )
            return replace(self, classes=names)
        index = {name: i for i, name in enumerate(names)}
        present = [self.classes[k] for k in np.unique(self.y)]
        unknown = [c for c in present if c not in index]
        if unknown:
            raise TsExplainError(
                f"the data holds class(es) {unknown} that are not among {list(names)}; "
                "remove those cases or name every class"
            )
        lookup = np.array([index.get(c, -1) for c in self.classes], dtype=np.int64)
        return replace(self, y=lookup[self.y], classes=names)

    def split(
        self, fraction: float = 0.9, seed: int = 0, stratify: bool = True
    ) -> tuple[Dataset, Dataset]:
        """Split into ``(first, second)`` with ``fraction`` of the cases in ``first``.

        Stratified by class (each class split in the same proportion; unlabelled data at
        random) and fully determined by ``seed``.
        """
        from sklearn.model_selection import train_test_split

        if not 0.0 < fraction < 1.0:
            raise TsExplainError(
                f"split fraction must lie strictly between 0 and 1, got {fraction}"
            )
        strat = None
        if self.y is not None and stratify:
            counts = self.class_counts()
            strat = self.y if counts[counts > 0].min() >= 2 else None
        try:
            first, second = train_test_split(
                np.arange(self.n_cases), train_size=fraction, random_state=seed, stratify=strat
            )
        except ValueError as exc:
            raise TsExplainError(
                f"cannot split {self.n_cases} cases at {fraction}: {exc}"
            ) from None
        return self.subset(np.sort(first)), self.subset(np.sort(second))

    # ------------------------------------------------------------------ storage
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the data set to one ``.npz`` file (atomically; no pickled objects)."""
        header = {
            "format": _NPZ_FORMAT,
            "padding": self.padding,
            "classes": list(self.classes),
            "channel_names": list(self.channel_names),
            "name": self.name,
            "meta": self.meta,
        }
        arrays = {"X": self.X, "lengths": self.lengths}
        if self.y is not None:
            arrays["y"] = self.y
        if self.mask is not None:
            arrays["mask"] = self.mask
        arrays.update({_CASE_INFO + key: values for key, values in self.case_info.items()})
        return write_npz(path, arrays, header)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Dataset:
        """Read a data set written by :meth:`save` (or any ``.npz`` with ``X``, and ``y`` when
        the classes are known)."""
        path = Path(path)
        arrays, header = read_npz(path, "a data set")
        if "X" not in arrays:
            raise TsExplainError(
                f"{path}: an .npz data set needs an array 'X' (and 'y' for labels), found "
                f"{sorted(arrays)}"
            )
        fields: dict[str, Any] = {
            "X": arrays["X"],
            "y": arrays.get("y"),
            "lengths": arrays.get("lengths"),
            "padding": header.get("padding", "right"),
            "classes": header.get("classes"),
            "channel_names": header.get("channel_names"),
            "mask": arrays.get("mask"),
            "name": header.get("name", path.stem),
            "meta": header.get("meta", {}),
            "case_info": {
                key[len(_CASE_INFO) :]: values
                for key, values in arrays.items()
                if key.startswith(_CASE_INFO)
            },
        }
        try:
            return cls(**fields)
        except TsExplainError as exc:
            raise TsExplainError(f"{path}: {exc}") from None
