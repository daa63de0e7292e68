"""Every reader, given arbitrary bytes, a truncated valid file or a valid file with bytes changed,
returns a data set or raises ``TsExplainError``: never another exception, never a hang."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsexplain.data as td
from tsexplain.errors import TsExplainError

X = np.round(np.random.default_rng(0).normal(size=(4, 2, 6)), 3)
LABELS = ["a", "b", "a", "b"]


def _ucr(sep: str) -> bytes:
    rows = [sep.join([lab, *map(str, x[0])]) for lab, x in zip(LABELS, X, strict=True)]
    return ("\n".join(rows) + "\n").encode()


def _csv() -> bytes:
    head = ",".join([f"t{i}" for i in range(6)] + ["label"])
    rows = [",".join([*map(str, x[0]), lab]) for lab, x in zip(LABELS, X, strict=True)]
    return ("\n".join([head, *rows]) + "\n").encode()


def _ts() -> bytes:
    head = (
        "@problemName Toy\n@timeStamps false\n@missing false\n@univariate false\n"
        "@dimensions 2\n@equalLength true\n@seriesLength 6\n@classLabel true a b\n@data\n"
    )
    rows = [
        ":".join(",".join(map(str, ch)) for ch in x) + ":" + lab
        for lab, x in zip(LABELS, X, strict=True)
    ]
    return (head + "\n".join(rows) + "\n").encode()


def _arff() -> bytes:
    attrs = "".join(f"@attribute t{i} numeric\n" for i in range(6))
    rows = [",".join([*map(str, x[0]), lab]) for lab, x in zip(LABELS, X, strict=True)]
    text = f"@relation toy\n{attrs}@attribute target {{a,b}}\n@data\n" + "\n".join(rows) + "\n"
    return text.encode()


def _npy(dtype: type = np.float32) -> bytes:
    buf = io.BytesIO()
    np.save(buf, X.astype(dtype))
    return buf.getvalue()


def _npz() -> bytes:
    ds = td.Dataset(X.astype(np.float32), np.array([0, 1, 0, 1]), classes=("a", "b"))
    with tempfile.TemporaryDirectory() as tmp:
        return ds.save(Path(tmp) / "toy.npz").read_bytes()


def _parquet() -> bytes:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(X[:, 0], columns=[f"t{i}" for i in range(6)])
    frame["label"] = LABELS
    buf = io.BytesIO()
    frame.to_parquet(buf)
    return buf.getvalue()


#: suffix -> the bytes of one small valid file
VALID: dict[str, Callable[[], bytes]] = {
    ".tsv": lambda: _ucr("\t"),
    ".txt": lambda: _ucr("  "),
    ".csv": _csv,
    ".ts": _ts,
    ".arff": _arff,
    ".npy": _npy,
    ".f8.npy": lambda: _npy(np.float64),
    ".npz": _npz,
    ".parquet": _parquet,
}

FUZZ = settings(
    max_examples=int(os.environ.get("TSX_FUZZ_EXAMPLES", "100")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _damaged(data: st.DataObject, valid: bytes, *, cut: bool, max_edits: int) -> bytes:
    """``valid`` with up to ``max_edits`` bytes changed and, if ``cut``, cut at a drawn byte."""
    content = bytearray(valid)
    edits = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(content) - 1), st.integers(0, 255)), max_size=max_edits
        ),
        label="edits",
    )
    for at, value in edits:
        content[at] = value
    end = data.draw(st.integers(0, len(content)), label="cut") if cut else len(content)
    return bytes(content[:end])


def _read(suffix: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"data{suffix.removeprefix('.f8')}"
        path.write_bytes(content)
        try:
            ds = td.load(path)
        except TsExplainError as err:
            assert str(err) and "\n" not in str(err).strip()
            return
        assert ds.X.ndim == 3 and len(ds) >= 1
        assert np.all(np.isfinite(ds.X))


def test_every_registered_reader_is_fuzzed() -> None:
    missing = set(td.available_readers()) - set(VALID) - {".pq", ".hea"}  # .hea: below
    assert not missing, f"readers without a fuzz case: {sorted(missing)}"


def test_the_valid_files_read() -> None:
    for suffix, make in VALID.items():
        try:
            content = make()
        except pytest.skip.Exception:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"data{suffix.removeprefix('.f8')}"
            path.write_bytes(content)
            ds = td.load(path)
            assert len(ds) == 4, suffix


@pytest.mark.parametrize("suffix", sorted(VALID))
@FUZZ
@given(content=st.binary(max_size=600))
def test_arbitrary_bytes(suffix: str, content: bytes) -> None:
    _read(suffix, content)


@pytest.mark.parametrize("suffix", sorted(VALID))
@FUZZ
@given(data=st.data())
def test_truncated_valid_file(suffix: str, data: st.DataObject) -> None:
    valid = VALID[suffix]()
    cut = data.draw(st.integers(0, len(valid) - 1), label="cut")
    _read(suffix, valid[:cut])


@pytest.mark.parametrize("suffix", sorted(VALID))
@FUZZ
@given(data=st.data())
def test_valid_file_with_bytes_changed(suffix: str, data: st.DataObject) -> None:
    _read(suffix, _damaged(data, VALID[suffix](), cut=False, max_edits=4))


def _stream(suffix: str, content: bytes) -> None:
    from tsexplain.scale.source import open_source

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"data{suffix.removeprefix('.f8')}"
        path.write_bytes(content)
        try:
            source = open_source(path)
            X, lengths = source.read(0, source.n_cases)
        except TsExplainError as err:
            assert str(err)
            return
        assert X.shape == (source.n_cases, source.n_channels, source.n_timepoints)
        assert lengths.shape == (source.n_cases,)


STREAMED = [".npy", ".f8.npy", ".tsv", ".txt"]


@pytest.mark.parametrize("suffix", STREAMED)
@FUZZ
@given(data=st.data())
def test_streamed_reading_of_damaged_files(suffix: str, data: st.DataObject) -> None:
    """The chunked readers of ``explain --out`` meet the same files."""
    _stream(suffix, _damaged(data, VALID[suffix](), cut=True, max_edits=3))


@pytest.mark.parametrize("suffix", STREAMED)
@FUZZ
@given(content=st.binary(max_size=600))
def test_streamed_reading_of_arbitrary_bytes(suffix: str, content: bytes) -> None:
    _stream(suffix, content)


def _wfdb_record() -> dict[str, bytes]:
    """The three files of a small two-lead WFDB record with beat annotations."""
    wfdb = pytest.importorskip("wfdb")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        wfdb.wrsamp(
            "rec",
            fs=360,
            units=["mV", "mV"],
            sig_name=["MLII", "V5"],
            d_signal=rng.integers(-400, 400, size=(1200, 2)).astype(np.int16),
            fmt=["16", "16"],
            adc_gain=[200.0, 200.0],
            baseline=[0, 0],
            write_dir=tmp,
        )
        wfdb.wrann("rec", "atr", np.array([300, 600, 900]), symbol=["N", "V", "N"], write_dir=tmp)
        return {s: (Path(tmp) / f"rec.{s}").read_bytes() for s in ("hea", "dat", "atr")}


@pytest.mark.parametrize("part", ["hea", "dat", "atr"])
@FUZZ
@given(data=st.data())
def test_damaged_wfdb_record(part: str, data: st.DataObject) -> None:
    files = _wfdb_record()
    files[part] = _damaged(data, files[part], cut=True, max_edits=3)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, raw in files.items():
            (Path(tmp) / f"rec.{suffix}").write_bytes(raw)
        try:
            ds = td.load(Path(tmp) / "rec.hea")
        except TsExplainError as err:
            assert str(err)
            return
        assert ds.X.ndim == 3 and np.all(np.isfinite(ds.X))
