"""Files and folders written by tsexplain get the modes the user's umask gives (not the
private modes of the temporary files they are staged in), and a failed job leaves nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import tsexplain as tx
from tsexplain._npz import write_npz
from tsexplain._runtime import check_output_location, new_file_mode, staged_file, staged_output
from tsexplain.cli import cli


@pytest.fixture(params=[0o022, 0o077, 0o027], ids=["umask022", "umask077", "umask027"])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in root.rglob("*")}


def _check(root: Path, mask: int) -> None:
    modes = _modes(root)
    assert modes
    for name, mode in modes.items():
        folder = (root / name).is_dir()
        assert mode == (0o777 if folder else 0o666) & ~mask, f"{name}: {oct(mode)}"
    assert not [n for n in modes if Path(n).name.startswith(".")]  # no staging left


def test_new_file_mode_follows_the_umask(umask):
    assert new_file_mode() == 0o666 & ~umask
    assert new_file_mode(folder=True) == 0o777 & ~umask
    assert os.umask(umask) == umask  # reading it left it unchanged


def test_library_writers_follow_the_umask(umask, tmp_path):
    out = tmp_path / "out"
    write_npz(out / "a" / "arrays.npz", {"x": np.arange(3)}, {"k": 1})
    with staged_output(out / "staged") as stage:
        (stage / "f.txt").write_text("x")
        (stage / "sub").mkdir()
        (stage / "sub" / "g.txt").write_text("y")
    with staged_output(out / "staged") as stage:  # into an existing folder
        (stage / "h.txt").write_text("z")
    with staged_file(out / "t.txt") as tmp:
        tmp.write_text("t")
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8))
    tx.save_model(model, out / "model")
    tx.save_model(model, out / "model")  # replacing a checkpoint
    _check(out, umask)
    assert sorted(p.name for p in (out / "staged").iterdir()) == ["f.txt", "h.txt", "sub"]


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask022", "umask077"], indirect=True)
def test_cli_outputs_follow_the_umask(umask, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    steps = [
        ["generate", "--out", str(out / "data" / "d.npz"), "--n-cases", "30"],
        ["train", "--data", str(out / "data" / "d.npz"), "--model", "causal_cnn", "--param",
         "filters=[4, 8]", "--epochs", "1", "--out", str(out / "run")],
        ["explain", "--model", str(out / "run"), "--data", str(out / "data" / "d.npz"),
         "--method", "saliency", "--out", str(out / "one" / "s.npz"), "--figures", "1"],
        ["explain", "--model", str(out / "run"), "--data", str(out / "data" / "d.npz"),
         "--method", "saliency,gradcam", "--out", str(out / "several")],
        ["evaluate", "--model", str(out / "run"), "--data", str(out / "data" / "d.npz"),
         "--explanations", str(out / "one" / "s.npz"), "--metric", "complexity",
         "--out", str(out / "tables" / "t.csv")],
        ["benchmark", "--model", str(out / "run"), "--data", str(out / "data" / "d.npz"),
         "--methods", "saliency", "--cases", ":6", "--out", str(out / "bench")],
    ]  # fmt: skip
    for args in steps:
        res = runner.invoke(cli, args)
        assert res.exit_code == 0, res.output
    _check(out, umask)
    assert (out / "run" / "model" / "model.safetensors").exists()
    assert (out / "bench" / "metrics.csv").exists() and (out / "tables" / "t.csv").exists()


def test_a_failed_job_removes_the_folders_it_made(tmp_path):
    with pytest.raises(RuntimeError), staged_output(tmp_path / "a" / "b" / "out") as stage:
        (stage / "half.txt").write_text("half")
        raise RuntimeError("crash")
    with pytest.raises(RuntimeError), staged_file(tmp_path / "c" / "d" / "f.npz") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "keep").mkdir()
    with pytest.raises(RuntimeError), staged_output(tmp_path / "keep" / "out"):
        raise RuntimeError("crash")
    assert [p.name for p in tmp_path.rglob("*")] == ["keep"]  # an existing parent stays


def test_output_location_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    assert check_output_location(tmp_path / "new" / "deeper", folder=True)
    assert check_output_location(tmp_path / "file", folder=False)
    for path, folder, needle in (
        (tmp_path / "file" / "x", True, "is a file"),
        (tmp_path / "file" / "x" / "y.npz", False, "is a file"),
        (tmp_path / "file", True, "not a folder"),
        (tmp_path / "folder", False, "is a folder"),
    ):
        with pytest.raises(tx.TsExplainError, match=needle):
            check_output_location(path, folder=folder)
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(tx.TsExplainError, match="permission denied"):
            check_output_location(locked / "out", folder=True)
