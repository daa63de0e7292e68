"""``train`` killed with SIGKILL at random moments, the model being written included: the output
folder is never half-written (absent, or a whole model that loads), and the next run leaves
nothing of the killed ones behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tsexplain as tx


def _stages(folder: Path, name: str, pid: int | str = "*") -> list[Path]:
    """The staging folders of ``name`` in ``folder``, those of the process ``pid`` only if given."""
    return sorted(folder.glob(f".{name}.tmp-*-{pid}-*"))


def test_stale_stages_of_dead_processes_are_swept(tmp_path: Path) -> None:
    from tsexplain._runtime import staged_output

    out = tmp_path / "run"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)  # fmt: skip
    live = os.getppid()
    host = "".join(c if c.isalnum() or c in "-_" else "_" for c in os.uname().nodename)
    stale = tmp_path / f".run.tmp-{host}-{int(dead.stdout)}-abc"
    alive = tmp_path / f".run.tmp-{host}-{live}-def"
    other = tmp_path / ".run.tmp-otherhost-1-ghi"
    for folder in (stale, alive, other):
        (folder / "model").mkdir(parents=True)
    with staged_output(out) as stage:
        (stage / "a.txt").write_text("a")
    assert (out / "a.txt").read_text() == "a"
    assert not stale.exists()  # its process is gone
    assert alive.exists() and other.exists()  # a live job's, and another machine's


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tsexplain.cli", *args]


@pytest.mark.slow
def test_sigkill_never_leaves_a_half_written_model(tmp_path: Path) -> None:
    ds = tx.data.make_sensor_failure(
        64, min_length=300, max_length=300, failure_fraction=0.25, seed=0
    )
    data = ds.save(tmp_path / "d.npz")
    out = tmp_path / "run"
    args = _cli(
        "train", "--data", str(data), "--out", str(out), "--epochs", "8", "--model", "causal_cnn",
        "--no-progress",
    )  # fmt: skip
    rng = np.random.default_rng(3)
    landed = {"while training": 0, "while writing": 0}
    for trial in range(8):
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if trial % 2:  # the moment the model starts being written, or just after
            deadline = time.monotonic() + 120
            while not _stages(tmp_path, "run", proc.pid) and proc.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.001)
            time.sleep(float(rng.uniform(0, 0.05)))
        else:  # anywhere from the start
            time.sleep(float(rng.uniform(0.5, 4.0)))
        writing = bool(_stages(tmp_path, "run", proc.pid))
        finished = proc.poll() is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if finished:  # it got through before the kill: a whole model
            tx.load_model(out / "model")
            break
        landed["while writing" if writing else "while training"] += 1
        assert not out.exists(), f"trial {trial}: a half-written {out}"
    print("kills landed:", landed)
    assert landed["while writing"] >= 2 and landed["while training"] >= 2, landed
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    model = tx.load_model(out / "model")
    assert model.meta["classes"] == list(ds.classes)
    assert {p.name for p in out.iterdir()} >= {"model", "metrics.json", "training_curves.png"}
    assert _stages(tmp_path, "run") == []  # what the killed runs left was swept
