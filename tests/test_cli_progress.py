"""Progress bars on the long commands (``--progress/--no-progress``, default: only on a
terminal), clean log lines with ``-v``, and Integrated Gradients' completeness gap printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import tsexplain as tx
from tsexplain.cli import cli

BAR = "%|"  # tqdm's percentage followed by the bar


@pytest.fixture(scope="module")
def saved(job_files) -> dict[str, Path]:
    return job_files("cli_progress", 24, max_length=40, seed=1)


def _command(name: str, s: dict[str, Path], out: Path) -> list[str]:
    data, model = str(s["data"]), str(s["model"])
    return {
        "train": ["train", "--data", data, "--model", "causal_cnn", "--param", "filters=[4, 8]",
                  "--epochs", "2", "--out", str(out)],
        "explain": ["explain", "--model", model, "--data", data, "--method", "saliency",
                    "--out", str(out / "e.npz")],
        "evaluate": ["evaluate", "--model", model, "--data", data, "--explanations",
                     str(s["ex"]), "--metric", "complexity"],
        "benchmark": ["benchmark", "--model", model, "--data", data, "--methods", "saliency",
                      "--cases", ":8", "--out", str(out)],
        "demo": ["demo", "--n-cases", "40", "--epochs", "1", "--out", str(out)],
    }[name]  # fmt: skip


@pytest.mark.parametrize("command", ["train", "explain", "evaluate", "benchmark", "demo"])
def test_progress_switch(saved, tmp_path, command):
    runner = CliRunner()
    shown = {}
    for i, switch in enumerate(("--progress", "--no-progress", None)):
        args = _command(command, saved, tmp_path / f"out{i}")
        res = runner.invoke(cli, args + ([switch] if switch else []))
        assert res.exit_code == 0, res.output
        shown[switch] = res.stderr
    assert BAR in shown["--progress"] and re.search(r"\d+/\d+", shown["--progress"])
    assert BAR not in shown["--no-progress"]
    assert BAR not in shown[None]  # the default: a bar only on a terminal, and this is none


def test_verbose_logs_are_clean_lines_without_progress(saved, tmp_path):
    res = CliRunner().invoke(
        cli, ["-v", *_command("train", saved, tmp_path / "o"), "--no-progress"]
    )
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    assert any(line.startswith("INFO tsexplain.train") and "epoch 2" in line for line in lines)
    assert all(re.match(r"(INFO|WARNING|DEBUG) tsexplain[.\w]*: ", line) for line in lines), lines
    assert "\r" not in res.stderr and BAR not in res.stderr


def test_verbose_logs_survive_a_progress_bar(saved, tmp_path):
    res = CliRunner().invoke(cli, ["-v", *_command("train", saved, tmp_path / "o"), "--progress"])
    assert res.exit_code == 0, res.output
    assert BAR in res.stderr
    # each log line is written whole, after the bar is cleared from its line
    logged = [
        part
        for line in res.stderr.split("\n")
        for part in line.split("\r")
        if "epoch" in part and "INFO" in part
    ]
    assert len(logged) == 2 and all(part.startswith("INFO tsexplain.train") for part in logged)


def test_integrated_gradients_completeness_gap_is_printed(saved, tmp_path):
    runner = CliRunner()
    base = _command("explain", saved, tmp_path)[:-4]
    res = runner.invoke(cli, [*base, "--method", "integrated_gradients", "--param", "n_steps=32",
                              "--out", str(tmp_path / "ig.npz")])  # fmt: skip
    assert res.exit_code == 0, res.output
    m = re.search(
        r"integrated_gradients: completeness gap median ([\d.]+)%, max ([\d.]+)%", res.stdout
    )
    assert m, res.stdout
    gap = tx.Explanation.load(tmp_path / "ig.npz").diagnostics["completeness"]
    assert float(m.group(1)) == pytest.approx(100 * gap["median_relative_gap"], abs=0.01)
    assert float(m.group(2)) == pytest.approx(100 * gap["max_relative_gap"], abs=0.01)
    assert float(m.group(1)) <= float(m.group(2))
    res = runner.invoke(cli, [*base, "--method", "saliency", "--out", str(tmp_path / "s.npz")])
    assert res.exit_code == 0 and "completeness" not in res.output
