"""A store cannot be silently wrong: a chunk deleted, truncated or edited after it was written
is found by its digest; resuming computes it again (the store then equals an undamaged one)
and evaluating refuses it by number. Two jobs writing one store at once leave a correct one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tsexplain as tx
from tsexplain.errors import TsExplainError

pytest.importorskip("zarr")

import zarr

from tsexplain.scale import evaluate_store, explain_to_store
from tsexplain.scale.store import FORMAT, damaged_chunks

ARRAYS = ("attributions/gradcam", "probabilities", "predicted", "target", "lengths", "done")


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory):
    """A saved tiny model, 50 labelled series with a mask, and the store of an undamaged run
    (4 chunks of 16)."""
    folder = tmp_path_factory.mktemp("integrity")
    ds = tx.data.make_sensor_failure(50, min_length=30, max_length=40, seed=2)
    model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0, filters=(4, 8))
    tx.save_model(model, folder / "model")
    ds.save(folder / "d.npz")
    clean = folder / "clean.zarr"
    explain_to_store(folder / "model", folder / "d.npz", clean, method="gradcam", chunk_size=16)
    return folder / "model", folder / "d.npz", clean


def _copy(clean: Path, to: Path) -> Path:
    subprocess.run(["cp", "-r", str(clean), str(to)], check=True)
    return to


def _read(store: Path) -> dict[str, np.ndarray]:
    group = zarr.open_group(str(store), mode="r")
    return {name: np.asarray(group[name][:]) for name in ARRAYS}


def _chunk_file(store: Path, array: str, index: int) -> Path:
    """The file of chunk ``index`` (along cases) of ``array``."""
    folder = store / array / "c" / str(index)
    return folder if folder.is_file() else next(p for p in folder.rglob("*") if p.is_file())


def _delete(path: Path) -> None:
    path.unlink()


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _edit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "attributions deleted": ("attributions/gradcam", _delete),
    "attributions truncated": ("attributions/gradcam", _truncate),
    "attributions edited": ("attributions/gradcam", _edit),
    "probabilities deleted": ("probabilities", _delete),
    "target edited": ("target", _edit),
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_a_damaged_chunk_is_refused_then_computed_again(job, tmp_path, how) -> None:
    model, data, clean = job
    store = _copy(clean, tmp_path / "s.zarr")
    array, damage = DAMAGE[how]
    damage(_chunk_file(store, array, 2))
    group = zarr.open_group(str(store), mode="r")
    assert damaged_chunks(group, 16) == [2]
    with pytest.raises(TsExplainError, match=r"chunk\(s\) 2 no longer match what was written"):
        evaluate_store(model, data, store, ["gini"], n_boot=0)
    run = explain_to_store(model, data, store, method="gradcam", chunk_size=16)
    assert (run.computed, run.resumed) == (1, 3)
    assert any("chunk(s) 2 of" in note and "computed again" in note for note in run.notes)
    want, got = _read(clean), _read(store)
    for name in ARRAYS:
        assert np.array_equal(want[name], got[name]), name
    table = evaluate_store(model, data, store, ["gini"], n_boot=0)
    assert table.value("gini") == pytest.approx(
        evaluate_store(model, data, clean, ["gini"], n_boot=0).value("gini")
    )


def test_the_command_line_says_which_chunk_in_one_line(job, tmp_path) -> None:
    model, data, clean = job
    store = _copy(clean, tmp_path / "s.zarr")
    _edit(_chunk_file(store, "attributions/gradcam", 0))
    _delete(_chunk_file(store, "lengths", 3))
    done = subprocess.run(
        [sys.executable, "-m", "tsexplain.cli", "evaluate", "--model", str(model), "--data",
         str(data), "--explanations", str(store), "--metric", "gini"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "chunk(s) 0, 3 no longer match" in lines[0] and "Traceback" not in done.stderr


def test_a_store_of_the_first_format_is_not_resumed_silently(job, tmp_path) -> None:
    model, data, clean = job
    store = _copy(clean, tmp_path / "old.zarr")
    group = zarr.open_group(str(store), mode="r+")
    identity = dict(group.attrs["tsexplain"])
    identity["format"] = 1
    group.attrs["tsexplain"] = identity
    with pytest.raises(TsExplainError, match=f"store format: stored 1, now {FORMAT}"):
        explain_to_store(model, data, store, method="gradcam", chunk_size=16)


@pytest.mark.slow
def test_two_jobs_writing_one_store_at_once_leave_a_correct_store(job, tmp_path) -> None:
    model, data, clean = job
    store = tmp_path / "both.zarr"
    command = [
        sys.executable, "-m", "tsexplain.cli", "explain", "--model", str(model), "--data",
        str(data), "--method", "gradcam", "--out", str(store), "--chunk-size", "16",
    ]  # fmt: skip
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    codes = [first.returncode, second.returncode]
    # both finish; one may find the other's store being made and resume it
    assert codes == [0, 0], outputs
    want, got = _read(clean), _read(store)
    for name in ARRAYS:
        assert np.array_equal(want[name], got[name]), name
    assert damaged_chunks(zarr.open_group(str(store), mode="r"), 16) == []
