"""Every error a user can cause on the command line ends in one ``error:`` line on stderr,
exit code 2, no traceback, and no output written (each class of the issue's appendix, in
every command it reaches)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import tsexplain as tx
from tsexplain.cli import cli, escape_control

pytest.importorskip("captum")


@dataclass
class Env:
    root: Path
    data: Path
    model: Path
    ex: Path
    huge_npy: Path
    huge_npz: Path
    a_file: Path
    two_channels: Path


def _lying_header(shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": shape}
    )
    return buf.getvalue() + b"\0" * 4096


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Env:
    root = tmp_path_factory.mktemp("cli_errors")
    ds = tx.data.make_sensor_failure(
        12, min_length=30, max_length=40, failure_fraction=0.25, seed=0
    )
    data = ds.save(root / "d.npz")
    model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0, filters=(4, 8))
    model.meta.update(classes=list(ds.classes), channel_names=list(ds.channel_names))
    tx.save_model(model, root / "model")
    ex = tx.explain(model, ds, method="saliency").save(root / "ex.npz")
    huge_npy = root / "huge.npy"
    huge_npy.write_bytes(_lying_header((10**8, 3, 10**4)))
    huge_npz = root / "huge.npz"
    with zipfile.ZipFile(huge_npz, "w") as zf:
        zf.writestr("X.npy", _lying_header((10**8, 3, 10**4)))
        y = io.BytesIO()
        np.save(y, np.zeros(3, dtype=np.int64))
        zf.writestr("y.npy", y.getvalue())
    a_file = root / "a_file"
    a_file.write_text("not a folder")
    two = tx.data.Dataset(ds.X[:, :2], ds.y, classes=ds.classes).save(root / "two.npz")
    return Env(root, data, root / "model", ex, huge_npy, huge_npz, a_file, two)


def _config_model(env: Env, name: str, edit: Callable[[dict], None]) -> Path:
    """A copy of the model folder whose config.json is changed by ``edit``."""
    folder = env.root / f"model_{name}"
    if not folder.exists():
        folder.mkdir()
        config = json.loads((env.model / "config.json").read_text())
        edit(config)
        (folder / "config.json").write_text(json.dumps(config))
        (folder / "model.safetensors").write_bytes((env.model / "model.safetensors").read_bytes())
    return folder


def _set(path: str, value) -> Callable[[dict], None]:
    def edit(config: dict) -> None:
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


# (id, arguments given the environment and a fresh output path, words the message must hold)
CASES: list[tuple[str, Callable[[Env, Path], list[str]], tuple[str, ...]]] = [
    # click's own usage errors
    ("epochs-0", lambda e, o: ["train", "--data", str(e.data), "--out", str(o), "--epochs", "0"], ("--epochs", "tsexplain train --help")),
    ("batch-size-0", lambda e, o: ["train", "--data", str(e.data), "--out", str(o), "--batch-size", "0"], ("--batch-size",)),
    ("unknown-option", lambda e, o: ["train", "--data", str(e.data), "--out", str(o), "--bogus", "1"], ("--bogus",)),
    ("missing-out", lambda e, o: ["train", "--data", str(e.data)], ("missing option", "--out")),
    ("unknown-command", lambda e, o: ["trian", "--out", str(o)], ("no such command", "trian")),
    ("choice", lambda e, o: ["train", "--data", str(e.data), "--out", str(o), "--scheduler", "warp"], ("--scheduler", "warp")),
    ("generate-choice", lambda e, o: ["generate", "--out", str(o), "--padding", "middle"], ("--padding",)),
    ("out-is-file-train", lambda e, o: ["train", "--data", str(e.data), "--out", str(e.a_file)], ("--out", "a_file")),
    ("out-is-file-benchmark", lambda e, o: ["benchmark", "--model", str(e.model), "--data", str(e.data), "--out", str(e.a_file)], ("a_file",)),
    ("out-is-file-demo", lambda e, o: ["demo", "--out", str(e.a_file)], ("a_file",)),
    ("out-is-folder-generate", lambda e, o: ["generate", "--out", str(e.root)], ("--out",)),
    ("group-option", lambda e, o: ["--bogus"], ("--bogus",)),
    ("lr-negative", lambda e, o: ["train", "--data", str(e.data), "--out", str(o), "--lr", "-1"], ("--lr",)),
    ("val-data-channels", lambda e, o: ["train", "--data", str(e.data), "--val-data", str(e.two_channels), "--out", str(o)], ("two.npz", "2 channel(s)", "d.npz has 3")),
    ("explain-channels", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.two_channels), "--out", str(o)], ("2 channel(s)", "expects 3")),
    # sizes checked before allocating
    ("huge-npy-header", lambda e, o: ["train", "--data", str(e.huge_npy), "--out", str(o)], ("huge.npy", "not a readable .npy file", "truncated or damaged")),
    ("huge-npz-header", lambda e, o: ["train", "--data", str(e.huge_npz), "--out", str(o)], ("huge.npz", "'X'", "truncated or damaged")),
    ("huge-npz-explain", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.huge_npz), "--out", str(o)], ("huge.npz",)),
    ("generate-too-many", lambda e, o: ["generate", "--out", str(o.with_suffix(".npz")), "--n-cases", "1000000000"], ("n_cases=1000000000", "cases fit")),
    # an output location that cannot be written, found before the work
    ("parent-is-file-train", lambda e, o: ["train", "--data", str(e.data), "--out", str(e.a_file / "run"), "--epochs", "1"], ("a_file is a file",)),
    ("parent-is-file-explain", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--out", str(e.a_file / "x" / "e.npz")], ("a_file is a file",)),
    ("parent-is-file-explain-folder", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--out", str(e.a_file / "ex")], ("a_file is a file",)),
    ("parent-is-file-generate", lambda e, o: ["generate", "--out", str(e.a_file / "d.npz")], ("a_file is a file",)),
    ("parent-is-file-evaluate", lambda e, o: ["evaluate", "--model", str(e.model), "--data", str(e.data), "--explanations", str(e.ex), "--out", str(e.a_file / "t.csv")], ("a_file is a file",)),
    ("parent-is-file-benchmark", lambda e, o: ["benchmark", "--model", str(e.model), "--data", str(e.data), "--out", str(e.a_file / "b")], ("a_file is a file",)),
    ("parent-is-file-demo", lambda e, o: ["demo", "--out", str(e.a_file / "demo")], ("a_file is a file",)),
    ("evaluate-out-suffix", lambda e, o: ["evaluate", "--model", str(e.model), "--data", str(e.data), "--explanations", str(e.ex), "--out", str(o.with_suffix(".txt"))], (".csv or .json",)),
    # a model folder whose config.json has fields of the wrong type or size
    ("config-text-number", lambda e, o: ["explain", "--model", str(_config_model(e, "text", _set("model.n_channels", "3"))), "--data", str(e.data), "--out", str(o)], ("model.n_channels", "whole number", "'3'")),
    ("config-list-object", lambda e, o: ["explain", "--model", str(_config_model(e, "list", _set("model", [1, 2]))), "--data", str(e.data), "--out", str(o)], ('"model"', "JSON object", "a list")),
    ("config-classes-not-list", lambda e, o: ["explain", "--model", str(_config_model(e, "classes", _set("meta.classes", "Normal"))), "--data", str(e.data), "--out", str(o)], ("meta.classes", "list of 2")),
    ("config-more-classes", lambda e, o: ["explain", "--model", str(_config_model(e, "more", _set("meta.classes", ["a", "b", "c"]))), "--data", str(e.data), "--out", str(o)], ("meta.classes", "one per output")),
    ("config-meta-list", lambda e, o: ["explain", "--model", str(_config_model(e, "meta", _set("meta", []))), "--data", str(e.data), "--out", str(o)], ('"meta"',)),
    ("config-hyper-text", lambda e, o: ["explain", "--model", str(_config_model(e, "hyper", _set("model.kernel_size", "three"))), "--data", str(e.data), "--out", str(o)], ("config.json", "kernel_size")),
    ("config-not-object", lambda e, o: ["explain", "--model", str(_config_model(e, "array", lambda c: c.clear())), "--data", str(e.data), "--out", str(o)], ("config.json",)),
    ("config-padding", lambda e, o: ["explain", "--model", str(_config_model(e, "pad", _set("meta.padding", 3))), "--data", str(e.data), "--out", str(o)], ("meta.padding",)),
    # Captum classes that cannot run behind the bridge
    ("captum-lrp", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "captum:LRP", "--out", str(o)], ("captum:LRP", "cannot run")),
    ("captum-noisetunnel", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "captum:NoiseTunnel", "--out", str(o)], ("captum:NoiseTunnel", "smoothgrad")),
    ("captum-deeplift", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "captum:DeepLift", "--out", str(o)], ("captum:DeepLift",)),
    ("captum-neuron", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "captum:NeuronGradient", "--out", str(o)], ("neuron",)),
    # control characters in a path stay on the one line, escaped
    ("newline-in-path", lambda e, o: ["train", "--data", str(e.root / "two\nlines.npz"), "--out", str(o)], ("two\\nlines.npz", "no such file")),
    ("escape-in-path", lambda e, o: ["explain", "--model", str(e.root / "m\x1b[31m"), "--data", str(e.data), "--out", str(o)], ("\\x1b[31m",)),
    # method settings and case selection
    ("unknown-setting", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "occlusion:windw=3", "--out", str(o)], ("windw", "window", "stride")),
    ("unknown-param", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "integrated_gradients", "--param", "steps=3", "--out", str(o)], ("steps", "n_steps")),
    ("param-needs-method", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "saliency,occlusion", "--param", "window=3", "--out", str(o)], ("name the method", "occlusion")),
    ("param-other-method", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "saliency", "--param", "occlusion.window=3", "--out", str(o)], ("'occlusion' is not a chosen method",)),
    ("param-twice", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "occlusion:window=3", "--param", "window=4", "--out", str(o)], ("set twice",)),
    ("param-malformed", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--param", "window", "--out", str(o)], ("KEY=VALUE",)),
    ("param-explain-keyword", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--param", "target=1", "--out", str(o)], ("--target",)),
    ("npz-for-two-methods", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--method", "saliency,occlusion", "--out", str(o.with_suffix(".npz"))], ("one .npz file",)),
    ("cases-out-of-range", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--cases", "0:100", "--out", str(o)], ("0:100", "12 cases")),
    ("cases-index-out-of-range", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--cases", "3,12", "--out", str(o)], ("case 12",)),
    ("cases-malformed", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--cases", "a:b", "--out", str(o)], ("'a:b'", "0:100")),
    ("cases-negative", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--cases", "-1", "--out", str(o)], ("'-1'",)),
    ("cases-empty-range", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--cases", "5:5", "--out", str(o)], ("selects no case",)),
    ("cases-twice", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--cases", "0:5,3", "--out", str(o)], ("case 3 is chosen twice",)),
    ("cases-empty-part", lambda e, o: ["explain", "--model", str(e.model), "--data", str(e.data), "--cases", "1,,2", "--out", str(o)], ("--cases",)),
    ("cases-evaluate", lambda e, o: ["evaluate", "--model", str(e.model), "--data", str(e.data), "--explanations", str(e.ex), "--cases", "20:", "--out", str(o.with_suffix(".csv"))], ("20:",)),
    ("cases-evaluate-mismatch", lambda e, o: ["evaluate", "--model", str(e.model), "--data", str(e.data), "--explanations", str(e.ex), "--cases", "0:5", "--out", str(o.with_suffix(".csv"))], ("explains 12 cases", "selects 5")),
    ("cases-benchmark", lambda e, o: ["benchmark", "--model", str(e.model), "--data", str(e.data), "--cases", "x", "--out", str(o)], ("'x'",)),
    ("cases-and-max-cases", lambda e, o: ["benchmark", "--model", str(e.model), "--data", str(e.data), "--cases", "0:3", "--max-cases", "3", "--out", str(o)], ("not both",)),
]  # fmt: skip


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(
    ("make_args", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_user_error_is_one_line_exit_2_and_writes_nothing(env, tmp_path, make_args, needles):
    out = tmp_path / "sub" / "out"
    args = make_args(env, out)
    before = _snapshot(env.root)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""  # nothing started before the error
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not (tmp_path / "sub").exists()
    assert list(tmp_path.iterdir()) == []
    assert _snapshot(env.root) == before  # the inputs are untouched, nothing added beside them


def test_escape_control_keeps_a_message_on_one_line():
    text = "a\nb\rc\td\x1be\u2028f\x85g\udcffh é ü 中"
    escaped = escape_control(text)
    assert escaped.splitlines() == [escaped]
    assert escaped == "a\\nb\\rc\\td\\x1be\\u2028f\\x85g\\udcffh é ü 中"


def test_help_and_version_exit_0():
    runner = CliRunner()
    for args in (["--help"], ["-h"], ["--version"], ["explain", "--help"], ["train", "-h"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert result.stderr == ""
    assert "--cases" in runner.invoke(cli, ["explain", "--help"]).stdout
    assert "--progress / --no-progress" in runner.invoke(cli, ["train", "--help"]).stdout


def test_an_array_larger_than_memory_is_refused_before_reading(tmp_path):
    from tsexplain._runtime import available_memory

    free = available_memory()
    if free is None:
        pytest.skip("the available memory is unknown here")
    n = 2 * free // 4 + 1024  # float32 values: twice the memory there is
    path = tmp_path / "big.npy"
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "<f4", "fortran_order": False, "shape": (n // 1000, 1000)}
        )
        try:
            fh.truncate(fh.tell() + n * 4)  # a sparse file: the size is real, the disk unused
        except OSError:
            pytest.skip("this file system has no sparse files that large")
    result = CliRunner().invoke(cli, ["train", "--data", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "of memory, more than the" in lines[0], result.stderr
    assert not (tmp_path / "o").exists()
