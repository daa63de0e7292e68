"""ECG beats cut from WFDB records written with wfdb.wrsamp / wfdb.wrann."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

wfdb = pytest.importorskip("wfdb")

import tsexplain.data as td  # noqa: E402
from tsexplain.data.readers import read_wfdb_beats  # noqa: E402
from tsexplain.errors import TsExplainError  # noqa: E402

FS = 360
GAIN = 200.0
#: samples and symbols; 50 and 3590 are too close to the ends, "+" is a rhythm change
SAMPLES = [50, 400, 800, 1200, 1600, 2000, 3590]
SYMBOLS = ["N", "N", "V", "A", "+", "L", "N"]


def write_record(
    folder: Path,
    name: str,
    *,
    seed: int = 0,
    sig_name: tuple[str, ...] = ("MLII", "V5"),
    fs: int = FS,
    invalid_at: int | None = None,
) -> np.ndarray:
    """Write a 10 s two-lead record; return its physical signal (n_samples, n_signals)."""
    rng = np.random.default_rng(seed)
    digital = rng.integers(-400, 400, size=(3600, len(sig_name))).astype(np.int16)
    if invalid_at is not None:
        digital[invalid_at, 0] = -32768  # WFDB's "no sample" marker for format 16
    wfdb.wrsamp(
        name,
        fs=fs,
        units=["mV"] * len(sig_name),
        sig_name=list(sig_name),
        d_signal=digital,
        fmt=["16"] * len(sig_name),
        adc_gain=[GAIN] * len(sig_name),
        baseline=[0] * len(sig_name),
        write_dir=str(folder),
    )
    wfdb.wrann(name, "atr", np.array(SAMPLES), symbol=SYMBOLS, write_dir=str(folder))
    physical = digital.astype(np.float64) / GAIN
    if invalid_at is not None:
        physical[invalid_at, 0] = np.nan
    return physical


def test_windows_labels_and_positions(tmp_path: Path) -> None:
    signal = write_record(tmp_path, "rec1")
    ds = td.load(tmp_path / "rec1.hea")  # before 0.25 s = 90 samples, after 0.45 s = 162
    assert ds.X.shape == (4, 2, 252)
    assert ds.channel_names == ("MLII", "V5")
    assert ds.classes == ("A", "L", "N", "V")
    assert [ds.classes[k] for k in ds.y] == ["N", "V", "A", "L"]
    assert ds.case_info["beat_sample"].tolist() == [400, 800, 1200, 2000]
    assert ds.case_info["beat_record"].tolist() == ["rec1"] * 4
    assert ds.meta["skipped_at_edges"] == 2 and ds.meta["fs"] == FS
    for i, sample in enumerate(ds.case_info["beat_sample"]):
        np.testing.assert_allclose(ds.X[i], signal[sample - 90 : sample + 162].T, atol=1e-6)
        np.testing.assert_allclose(ds.X[i, :, 90], signal[sample], atol=1e-6)
    again = td.load(ds.save(tmp_path / "beats.npz"))  # the provenance survives storage
    assert again.case_info["beat_sample"].tolist() == [400, 800, 1200, 2000]
    np.testing.assert_array_equal(again.X, ds.X)
    # ... and stays with its beat through a subset: the V and L beats only
    picked = ds.subset(np.array([1, 3]))
    assert picked.case_info["beat_sample"].tolist() == [800, 2000]
    assert [picked.classes[k] for k in picked.y] == ["V", "L"]


def test_aami_groups_and_channel_choice(tmp_path: Path) -> None:
    signal = write_record(tmp_path, "rec1")
    ds = read_wfdb_beats(tmp_path / "rec1", aami=True, channels=["V5"], before=0.1, after=0.1)
    assert ds.classes == ("N", "S", "V", "F", "Q")
    # a 0.1 s window fits around the beat at sample 50 too; only 3590 runs past the end
    assert ds.case_info["beat_sample"].tolist() == [50, 400, 800, 1200, 2000]
    assert ds.y.tolist() == [0, 0, 2, 1, 0]  # N, N, V, A -> S, L -> N
    assert ds.channel_names == ("V5",) and ds.X.shape == (5, 1, 72)
    np.testing.assert_allclose(ds.X[2, 0], signal[800 - 36 : 800 + 36, 1], atol=1e-6)
    only = read_wfdb_beats(tmp_path / "rec1", classes=["V", "A"])
    assert only.classes == ("V", "A") and only.case_info["beat_sample"].tolist() == [800, 1200]


def test_several_records_from_a_directory(tmp_path: Path) -> None:
    write_record(tmp_path, "r1", seed=1)
    write_record(tmp_path, "r2", seed=2)
    ds = read_wfdb_beats(tmp_path, aami=True)
    assert ds.n_cases == 8 and ds.name == "wfdb"
    assert ds.case_info["beat_record"].tolist() == ["r1"] * 4 + ["r2"] * 4
    assert ds.meta["records"] == ["r1", "r2"]


def test_missing_samples_follow_the_policy(tmp_path: Path) -> None:
    signal = write_record(tmp_path, "gap", invalid_at=805)
    with pytest.raises(TsExplainError, match=r"record gap, beat at sample 800: missing value at"):
        read_wfdb_beats(tmp_path / "gap")
    ds = read_wfdb_beats(tmp_path / "gap", missing="interpolate")
    expected = (signal[804, 0] + signal[806, 0]) / 2
    np.testing.assert_allclose(ds.X[1, 0, 95], expected, atol=1e-6)
    dropped = read_wfdb_beats(tmp_path / "gap", missing="drop")
    assert dropped.case_info["beat_sample"].tolist() == [400, 1200, 2000]


def test_record_errors(tmp_path: Path) -> None:
    write_record(tmp_path, "r1")
    with pytest.raises(TsExplainError, match=r"no annotation file; pass annotator="):
        read_wfdb_beats(tmp_path / "r1", annotator="qrs")
    with pytest.raises(TsExplainError, match=r"no signal 'V1'"):
        read_wfdb_beats(tmp_path / "r1", channels=["V1"])
    other = tmp_path / "other"
    other.mkdir()
    write_record(other, "r3", sig_name=("II",))
    with pytest.raises(TsExplainError, match=r"signals \['II'\] differ from .*\['MLII', 'V5'\]"):
        read_wfdb_beats([tmp_path / "r1", other / "r3"])
    write_record(other, "r4", fs=250)
    with pytest.raises(TsExplainError, match=r"sampled at 250"):
        read_wfdb_beats([tmp_path / "r1.hea", other / "r4"], channels=[0])
    dat = (tmp_path / "r1.dat").read_bytes()
    (tmp_path / "r1.dat").write_bytes(dat[:100])
    with pytest.raises(TsExplainError, match=r"could not be read, perhaps truncated"):
        read_wfdb_beats(tmp_path / "r1")
    with pytest.raises(TsExplainError, match=r"nope\.hea: no such WFDB header file"):
        read_wfdb_beats(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TsExplainError, match=r"no WFDB records"):
        read_wfdb_beats(tmp_path / "empty")
