"""A disk that fills, or a folder that turns read-only, midway through a command: every command
that writes files ends in one ``error:`` line and exit code 2, leaves no half-written output
(nothing at ``--out``, no staging folder beside it) and its inputs untouched; once the disk has
room again, the same command succeeds.

The fault is simulated at every point where the command opens a file for writing in turn
(the first, the second, ...), until the command gets through with no fault left to meet.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from click.testing import CliRunner

from tsexplain.cli import cli

pytest.importorskip("captum")


@contextmanager
def failing_writes(under: Path, at: int, code: int) -> Iterator[list[str]]:
    """Make the ``at``-th opening of a file for writing below ``under`` (counting from 0) raise
    ``OSError(code)``, as a full disk or a read-only remount would; yield the files opened."""
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def check(path: object, writing: bool) -> None:
        if not writing or not isinstance(path, (str, os.PathLike)):
            return
        name = os.fspath(path)
        if not os.path.abspath(name).startswith(str(under)):
            return
        opened.append(name)
        if len(opened) - 1 == at:
            raise OSError(code, os.strerror(code), name)

    def fake_open(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        check(file, any(c in mode for c in "wax+"))
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        check(path, bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)))
        return real_os_open(path, flags, *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(builtins, "open", fake_open)
    mp.setattr(io, "open", fake_open)
    mp.setattr(os, "open", fake_os_open)
    try:
        yield opened
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def inputs(job_files) -> dict[str, Path]:
    return job_files("fault_inputs", 16)


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


M = "--model"
# (id, the arguments given the inputs and the output path)
COMMANDS: list[tuple[str, Callable[[dict[str, Path], Path], list[str]]]] = [
    ("train", lambda i, o: ["train", "--data", str(i["data"]), "--out", str(o), "--epochs", "1", "--model", "causal_cnn"]),
    ("explain-folder", lambda i, o: ["explain", M, str(i["model"]), "--data", str(i["data"]), "--method", "saliency,occlusion", "--out", str(o)]),
    ("explain-file", lambda i, o: ["explain", M, str(i["model"]), "--data", str(i["data"]), "--out", str(o.with_suffix(".npz"))]),
    ("explain-store", lambda i, o: ["explain", M, str(i["model"]), "--data", str(i["data"]), "--out", str(o.with_suffix(".zarr")), "--chunk-size", "8"]),
    ("evaluate", lambda i, o: ["evaluate", M, str(i["model"]), "--data", str(i["data"]), "--explanations", str(i["ex"]), "--metric", "deletion_auc", "--out", str(o.with_suffix(".csv"))]),
    ("benchmark", lambda i, o: ["benchmark", M, str(i["model"]), "--data", str(i["data"]), "--methods", "saliency,occlusion", "--max-cases", "8", "--out", str(o)]),
    ("report", lambda i, o: ["report", M, str(i["model"]), "--data", str(i["data"]), "--methods", "saliency", "--max-cases", "8", "--out", str(o.with_suffix(".html"))]),
    ("generate", lambda i, o: ["generate", "--out", str(o.with_suffix(".npz")), "--n-cases", "8"]),
]  # fmt: skip


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS], ids=["full-disk", "read-only"])
@pytest.mark.parametrize("make_args", [c[1] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_a_write_fault_anywhere_loses_nothing(inputs, tmp_path, make_args, code) -> None:
    work = tmp_path / "work"
    work.mkdir()
    args = make_args(inputs, work / "sub" / "out")
    before = _snapshot(inputs["root"])
    words = {errno.ENOSPC: "no space left", errno.EROFS: "read-only file system"}[code]
    at = 0
    while True:
        with failing_writes(work, at, code) as opened:
            result = CliRunner().invoke(cli, args)
        if len(opened) <= at:  # the command met no fault: it is through
            assert result.exit_code == 0, (result.output, result.exception)
            break
        assert result.exit_code == 2, (at, opened, result.output, result.exception)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and result.stderr.endswith(errors[0] + "\n"), result.stderr
        assert "Traceback" not in result.output
        assert words in errors[0].lower() and ".tmp-" not in errors[0], errors[0]
        leftovers = sorted(str(p.relative_to(work)) for p in work.rglob("*"))
        if "chunk" not in errors[0]:  # a streamed job keeps its finished chunks to resume
            assert leftovers == [], (at, opened[at], leftovers)
        assert _snapshot(inputs["root"]) == before
        assert plt.get_fignums() == [], "a figure was left open"
        at += 1
    assert at > 0, "the command wrote nothing"
    assert result.exit_code == 0, (result.output, result.exception)
