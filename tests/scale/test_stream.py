"""Streamed explanation into a Zarr store: equal to the in-memory path, resumable after
SIGKILL bit for bit, the same on a local Dask cluster, and clear about bad input."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tsexplain as tx
from tsexplain.errors import TsExplainError

pytest.importorskip("zarr")

import zarr

from tsexplain.scale import explain_to_store, open_source

ARRAYS = ("attributions/gradcam", "probabilities", "predicted", "target", "lengths", "done")


def _series(n: int, c: int = 3, t: int = 40, seed: int = 0) -> np.ndarray:
    """Series with NaN tails (shorter series), as a .npy of variable-length data is written."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, c, t)).astype(np.float32)
    lengths = rng.integers(t // 2, t + 1, size=n)
    for i, n_real in enumerate(lengths):
        X[i, :, n_real:] = np.nan
    return X


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A saved tiny model and a .npy of 90 variable-length series."""
    folder = tmp_path_factory.mktemp("stream")
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8))
    tx.save_model(model, folder / "model")
    np.save(folder / "x.npy", _series(90))
    return folder / "model", folder / "x.npy"


def _read(store: Path) -> dict[str, np.ndarray]:
    group = zarr.open_group(str(store), mode="r")
    return {name: np.asarray(group[name][:]) for name in ARRAYS if name in group}


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name


def test_store_equals_in_memory_explanation(saved, tmp_path) -> None:
    model_path, data = saved
    run = explain_to_store(
        model_path,
        data,
        tmp_path / "s.zarr",
        method=["gradcam", "occlusion"],
        chunk_size=32,
        occlusion={"window": 5},
    )
    assert (run.n_chunks, run.computed, run.resumed) == (3, 3, 0)
    X = np.load(data)
    lengths = (~np.isnan(X).all(axis=1)).sum(axis=1)
    model = tx.load_model(model_path)
    want = tx.explain(
        model,
        np.nan_to_num(X),
        method=["gradcam", "occlusion"],
        lengths=lengths,
        padding="right",
        occlusion={"window": 5},
    )
    group = zarr.open_group(str(tmp_path / "s.zarr"), mode="r")
    for name in ("gradcam", "occlusion"):
        got = group[f"attributions/{name}"][:]
        assert np.abs(got - want[name].attributions).max() <= 1e-6 * np.abs(got).max(), name
    assert np.array_equal(group["lengths"][:], lengths)
    assert np.array_equal(group["predicted"][:], want["gradcam"].predicted)
    assert np.allclose(group["probabilities"][:], want["gradcam"].probabilities, atol=1e-6)
    assert group["done"][:].tolist() == [1, 1, 1]
    assert group.attrs["tsexplain"]["methods"] == {"gradcam": {}, "occlusion": {"window": 5}}


def test_npy_rows_read_by_byte_range(tmp_path) -> None:
    X = np.random.default_rng(3).normal(size=(25, 2, 30))
    np.save(tmp_path / "c.npy", X)  # float64, C order: read by rows
    np.save(tmp_path / "f.npy", np.asfortranarray(X))  # Fortran order: memory-mapped
    np.save(tmp_path / "u.npy", X[:, 0])  # (N, T): one channel
    for name, want in (("c", X), ("f", X), ("u", X[:, :1])):
        got, lengths = open_source(tmp_path / f"{name}.npy").read(7, 19)
        assert got.dtype == np.float32 and np.array_equal(got, want[7:19].astype(np.float32)), name
        assert lengths.tolist() == [30] * 12


def test_zarr_and_whole_file_sources(tmp_path) -> None:
    ds = tx.data.make_sensor_failure(20, min_length=30, max_length=40, seed=1)
    ds.save(tmp_path / "d.npz")
    g = zarr.open_group(str(tmp_path / "d.zarr"), mode="w")
    g.create_array("X", data=ds.X, chunks=(7, 3, 40))
    g.create_array("lengths", data=ds.lengths)
    g.attrs["padding"] = ds.padding
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8))
    want = tx.explain(model, ds, method="saliency").attributions
    for src in ("d.zarr", "d.npz"):
        source = open_source(tmp_path / src)
        assert source.padding == ds.padding and source.n_cases == 20
        explain_to_store(
            model, tmp_path / src, tmp_path / f"{src}.out.zarr", method="saliency", chunk_size=8
        )
        got = zarr.open_group(str(tmp_path / f"{src}.out.zarr"))["attributions/saliency"][:]
        assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max(), src


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tsexplain.cli", *args]


def _done(store: Path) -> int:
    """Chunks marked done, read from the files (a killed writer may have left the store in
    any state; the chunk files of 'done' are what a resume reads)."""
    folder = store / "done" / "c"
    return len(list(folder.iterdir())) if folder.is_dir() else 0


@pytest.mark.slow
def test_resume_after_sigkill_is_bit_identical(saved, tmp_path) -> None:
    model_path, data = saved
    args = [
        "explain",
        "--model",
        str(model_path),
        "--data",
        str(data),
        "--method",
        "integrated_gradients",
        "--param",
        "n_steps=64",
        "--chunk-size",
        "6",
        "--no-progress",
    ]
    whole = tmp_path / "whole.zarr"
    subprocess.run(_cli(*args, "--out", str(whole)), check=True, capture_output=True)
    killed = tmp_path / "killed.zarr"
    rng = np.random.default_rng(7)
    kills = []
    for _ in range(4):
        proc = subprocess.Popen(
            _cli(*args, "--out", str(killed)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        goal = min(_done(killed) + int(rng.integers(1, 3)), 12)  # 1-2 more chunks, never all 15
        deadline = time.monotonic() + 120
        while _done(killed) < goal and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(float(rng.uniform(0, 0.05)))  # anywhere inside the next chunk
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills.append(_done(killed))
    print("chunks done at each kill:", kills)
    assert 0 < kills[0] < kills[-1] < 15, kills  # the kills landed mid-run, progress was kept
    out = subprocess.run(
        _cli(*args, "--out", str(killed)), check=True, capture_output=True, text=True
    )
    assert "finished before (resumed)" in out.stdout
    _same(_read(whole), _read(killed))


@pytest.mark.slow
def test_local_dask_cluster_gives_the_same_store(saved, tmp_path) -> None:
    pytest.importorskip("dask.distributed")
    model_path, data = saved
    kw = {"method": "gradcam", "chunk_size": 16}
    explain_to_store(model_path, data, tmp_path / "one.zarr", **kw)
    run = explain_to_store(model_path, data, tmp_path / "dask.zarr", workers=2, **kw)
    assert run.computed == 6
    _same(_read(tmp_path / "one.zarr"), _read(tmp_path / "dask.zarr"))


@pytest.mark.slow
@pytest.mark.parametrize("retries", [3, 0], ids=["rerun", "resume"])
def test_a_dask_worker_killed_midway(saved, tmp_path, retries) -> None:
    """SIGKILL of a worker process while it explains: the cluster reruns its chunks elsewhere,
    or, where the cluster allows no rerun, the job ends in one message and the same command
    resumes it; either way the store equals a one-process run."""
    distributed = pytest.importorskip("dask.distributed")
    import threading

    import dask

    model_path, data = saved
    kw = {"method": "integrated_gradients", "n_steps": 64, "chunk_size": 6}
    explain_to_store(model_path, data, tmp_path / "one.zarr", **kw)
    store = tmp_path / "dask.zarr"
    resumed = []
    with dask.config.set({"distributed.scheduler.allowed-failures": retries}), distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        pids = list(client.run(os.getpid).values())
        killed: list[int] = []

        def kill_when_started() -> None:
            deadline = time.monotonic() + 120
            while _done(store) < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(pids[0], signal.SIGKILL)
            killed.append(_done(store))

        killer = threading.Thread(target=kill_when_started)
        killer.start()
        try:
            run = explain_to_store(
                model_path, data, store, scheduler=cluster.scheduler_address, **kw
            )
        except TsExplainError as exc:  # the job could not finish: it resumes
            assert "worker" in str(exc) and "resume" in str(exc), str(exc)
            resumed.append(str(exc))
            run = explain_to_store(model_path, data, store, **kw)
        killer.join()
    assert killed and killed[0] < 15, killed  # the worker died midway
    assert bool(resumed) == (retries == 0), resumed
    assert run.computed + run.resumed == 15
    _same(_read(tmp_path / "one.zarr"), _read(store))


def test_unreachable_scheduler_fails_fast(saved, tmp_path) -> None:
    pytest.importorskip("dask.distributed")
    model_path, data = saved
    started = time.monotonic()
    with pytest.raises(
        TsExplainError, match=r"cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"
    ):
        explain_to_store(model_path, data, tmp_path / "s.zarr", scheduler="tcp://127.0.0.1:9")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"method": "saliency"}, "methods and their settings"),
        ({"chunk_size": 10}, "chunk size"),
        ({"target": 1}, "target"),
        ({"other_model": True}, "model"),
        ({"other_data": True}, "data"),
    ],
)
def test_resuming_another_job_is_refused(saved, tmp_path, change, named) -> None:
    model_path, data = saved
    store = tmp_path / "s.zarr"
    explain_to_store(model_path, data, store, method="gradcam", chunk_size=32)
    kw: dict = {"method": "gradcam", "chunk_size": 32}
    model: object = model_path
    if change.pop("other_model", False):
        model = tx.models.build("causal_cnn", 3, 2, seed=1, filters=(4, 8))
    if change.pop("other_data", False):
        np.save(tmp_path / "x.npy", _series(90, seed=5))
        data = tmp_path / "x.npy"
    kw.update(change)
    with pytest.raises(TsExplainError, match=rf"cannot be resumed \({named}: stored"):
        explain_to_store(model, data, store, **kw)


def test_full_disk_keeps_finished_chunks_and_resumes(saved, tmp_path, monkeypatch) -> None:
    model_path, data = saved
    store = tmp_path / "s.zarr"
    explain_to_store(model_path, data, tmp_path / "whole.zarr", chunk_size=20)
    real = zarr.Array.__setitem__

    def full_at_case_40(self, key, value):  # the disk fills while chunk 2 is written
        if isinstance(key, slice) and key.start == 40 and self.shape[0] == 90:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, key, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", full_at_case_40)
    with pytest.raises(
        TsExplainError, match=r"cannot write chunk 2 .*No space left on device.*resume"
    ):
        explain_to_store(model_path, data, store, chunk_size=20)
    monkeypatch.undo()
    assert zarr.open_group(str(store))["done"][:].tolist() == [1, 1, 0, 0, 0]
    run = explain_to_store(model_path, data, store, chunk_size=20)
    assert (run.resumed, run.computed) == (2, 3)
    _same(_read(tmp_path / "whole.zarr"), _read(store))


def test_write_error_is_one_message(tmp_path) -> None:
    from tsexplain.scale.store import write_chunk

    class Broken:
        def __getitem__(self, name):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    with pytest.raises(
        TsExplainError, match=r"cannot write chunk 4 .*Read-only file system.*resume"
    ):
        write_chunk(Broken(), 4, 10, {"lengths": np.ones(10, np.int64)})


def test_chunk_size_larger_than_the_data(saved, tmp_path) -> None:
    model_path, data = saved
    run = explain_to_store(model_path, data, tmp_path / "s.zarr", chunk_size=10_000)
    assert run.n_chunks == 1 and run.chunk_size == 90
    assert "larger than the data's 90 cases" in run.notes[0]


def test_bad_input(saved, tmp_path) -> None:
    model_path, data = saved
    X = _series(10)
    X[3, 1, 2] = np.nan  # NaN inside a series, not at its end
    np.save(tmp_path / "bad.npy", X)
    with pytest.raises(TsExplainError, match="case 3 holds NaN"):
        explain_to_store(model_path, tmp_path / "bad.npy", tmp_path / "a.zarr")
    np.save(tmp_path / "two.npy", np.zeros((4, 2, 30), np.float32))
    with pytest.raises(TsExplainError, match="2 channel.*the model takes 3"):
        explain_to_store(model_path, tmp_path / "two.npy", tmp_path / "b.zarr")
    with pytest.raises(TsExplainError, match="positive whole number"):
        explain_to_store(model_path, data, tmp_path / "c.zarr", chunk_size=0)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("mine")
    with pytest.raises(TsExplainError, match="not a tsexplain explanation store"):
        explain_to_store(model_path, data, tmp_path / "plain")
    assert (tmp_path / "plain" / "notes.txt").read_text() == "mine"
    good = tmp_path / "good.npy"
    np.save(good, _series(10))
    (tmp_path / "cut.npy").write_bytes(good.read_bytes()[:400])
    with pytest.raises(TsExplainError, match="shorter than its header declares"):
        explain_to_store(model_path, tmp_path / "cut.npy", tmp_path / "e.zarr")
    (tmp_path / "junk.npy").write_bytes(b"not an array" * 10)
    with pytest.raises(TsExplainError, match="not a readable numeric .npy file"):
        explain_to_store(model_path, tmp_path / "junk.npy", tmp_path / "e.zarr")
    assert not (tmp_path / "e.zarr").exists()
    with pytest.raises(TsExplainError, match="saved path"):
        explain_to_store(tx.load_model(model_path), data, tmp_path / "d.zarr", workers=1)


def test_cli_store_and_its_errors(saved, tmp_path) -> None:
    from click.testing import CliRunner

    from tsexplain.cli import cli

    model_path, data = saved
    base = ["explain", "--model", str(model_path), "--data", str(data)]
    res = CliRunner().invoke(
        cli, [*base, "--out", str(tmp_path / "s.zarr"), "--chunk-size", "40", "--no-progress"]
    )
    assert res.exit_code == 0, res.output
    assert "in 3 chunk(s) of 40" in res.output
    res = CliRunner().invoke(
        cli, [*base, "--out", str(tmp_path / "s.zarr"), "--chunk-size", "40", "--no-progress"]
    )
    assert res.exit_code == 0 and "complete already: all 3 chunk(s)" in res.output
    (tmp_path / "file").write_text("x")
    for extra, message in (
        (["--out", str(tmp_path / "file" / "s.zarr")], "is a file, not a folder"),
        (["--out", str(tmp_path / "t.zarr"), "--cases", "0:5"], "--cases and --figures"),
        (["--out", str(tmp_path / "t.npz"), "--workers", "2"], "give --out a .zarr path"),
        (["--out", str(tmp_path / "t.zarr"), "--target", "true"], "--target true"),
    ):
        res = CliRunner().invoke(cli, [*base, *extra])
        assert res.exit_code == 2, res.output
        assert res.output.startswith("error:") and message in res.output, res.output
    assert not (tmp_path / "t.zarr").exists()


def test_ucr_text_read_by_lines_equals_whole_read(tmp_path) -> None:
    lines = ["b\t1.0\t2.0\t3.0\tNaN", "a\t0.5\t-1\t2\t4", "c\t7\tNaN\tNaN\tNaN", "a\t1e-3\t2\t3\t4"]
    (tmp_path / "u.tsv").write_text("\n".join(lines) + "\n")
    shared = (
        Path(__file__).resolve().parents[3]
        / "shared"
        / "data"
        / "ucr"
        / "ECG200"
        / "ECG200_TEST.tsv"
    )
    for path in [tmp_path / "u.tsv", *([shared] if shared.exists() else [])]:
        whole = tx.data.load(path)
        source = open_source(path)
        assert source.classes == tuple(whole.classes)
        X, lengths = source.read(1, whole.n_cases)
        assert np.array_equal(lengths, whole.lengths[1:])
        assert np.array_equal(X, whole.X[1:].astype(np.float32))
        chunk = source.dataset(1, whole.n_cases, X, lengths)
        assert np.array_equal(chunk.y, whole.y[1:])
    (tmp_path / "bad.tsv").write_text("a\t1\tx\t3\n")
    with pytest.raises(TsExplainError, match="series 1: a value that is not a number"):
        open_source(tmp_path / "bad.tsv").read(0, 1)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("target", r"target class 5 is out of range: the model has 2 classes \(0 to 1\)"),
        ("nan", r"case 3 holds NaN or inf inside the series"),
        ("scheduler", r"cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"),
        ("address", r"cannot reach the Dask scheduler at 'not an address'"),
    ],
)
def test_a_refused_job_leaves_no_store(saved, tmp_path, how, message) -> None:
    """What can be checked before the store exists is checked first: nothing is left behind."""
    model_path, data = saved
    kw: dict = {}
    if how == "target":
        kw["target"] = 5
    elif how == "nan":
        series = np.load(data)
        series[3, 1, 2] = np.nan  # inside the series, in the first chunk
        data = tmp_path / "nan.npy"
        np.save(data, series)
    else:
        pytest.importorskip("dask.distributed")
        kw["scheduler"] = "tcp://127.0.0.1:9" if how == "scheduler" else "not an address"
    store = tmp_path / "s.zarr"
    with pytest.raises(TsExplainError, match=message):
        explain_to_store(model_path, data, store, chunk_size=32, **kw)
    assert not store.exists()
