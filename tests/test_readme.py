"""Every code block of README.md runs as written.

- ```python blocks run in order, in one namespace, in a temporary working folder (matplotlib
  draws to the Agg backend, set by conftest.py);
- ```bash / ```sh / ```console blocks are tsexplain commands, run through the command line
  (click's CliRunner, in the same temporary folder); any other command fails the test;
- ```text blocks (usage synopses, printed tables, folder trees) are not code;
- the set-up block at the top (``make demo`` / ``make test``) is skipped, recognised by its
  content: running the whole test suite from inside a test would recurse, and both build an
  environment first.

A block without a language fails the test: a reader cannot tell whether it runs.

Blocks that read ``../shared/data`` (the real data beside a checkout) run in a working folder
that has ``shared`` beside it, as a checkout does; without that data they are passed over.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from click.testing import CliRunner

README = Path(__file__).resolve().parents[1] / "README.md"
SHELLS = ("bash", "sh", "console", "shell")
SETUP = ("make demo", "make test")  # the README's two set-up commands: never run here
SHARED = README.parents[1] / "shared"  # real data beside the checkout, when it is there


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    line: int  # of the opening fence in README.md


def readme_blocks() -> list[Block]:
    """The fenced code blocks of README.md, in order."""
    blocks, lang, start, body = [], None, 0, []
    for n, text in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        fence = re.match(r"^\s*```\s*([\w+-]*)\s*$", text)
        if fence and lang is None:
            lang, start, body = fence.group(1).lower(), n, []
        elif fence:
            blocks.append(Block(lang, "\n".join(body) + "\n", start))
            lang = None
        elif lang is not None:
            body.append(text)
    assert lang is None, f"README.md: the block opened at line {start} is never closed"
    return blocks


def is_setup(block: Block) -> bool:
    """The set-up block: only ``make demo`` / ``make test`` commands."""
    commands = shell_commands(block.code)
    return bool(commands) and all(" ".join(c[:2]) in SETUP for c in commands)


def shell_commands(code: str) -> list[list[str]]:
    """The commands of a shell block: comments dropped, ``\\`` continuations joined, a
    console block's ``$ `` prompts stripped (its other lines are output)."""
    lines = code.replace("\\\n", " ").splitlines()
    if any(line.startswith("$ ") for line in lines):
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    return [shlex.split(line, comments=True) for line in lines if shlex.split(line, comments=True)]


BLOCKS = readme_blocks()


def uses_shared(block: Block) -> bool:
    return "../shared/" in block.code


def runnable(block: Block) -> bool:
    """Whether the block can run here: everything does, except real-data blocks without the data."""
    return not uses_shared(block) or (SHARED / "data").is_dir()


def workdir(tmp_path: Path) -> Path:
    """A working folder with ``../shared`` pointing at the real data, as beside a checkout."""
    work = tmp_path / "work"
    work.mkdir()
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED, target_is_directory=True)
    return work


def test_every_block_says_what_it_is():
    unlabelled = [b.line for b in BLOCKS if not b.lang]
    assert not unlabelled, (
        f"README.md blocks at lines {unlabelled} have no language; use ```python, ```bash "
        "(run by this test) or ```text (not code)"
    )
    assert {b.lang for b in BLOCKS} <= {"python", "text", *SHELLS}
    # exactly one block is skipped, and it is the set-up block
    assert [b.line for b in BLOCKS if b.lang in SHELLS and is_setup(b)] == [BLOCKS[0].line]


def test_python_blocks_run_in_order(tmp_path, monkeypatch):
    blocks = [b for b in BLOCKS if b.lang == "python" and runnable(b)]
    assert len(blocks) >= 2
    monkeypatch.chdir(workdir(tmp_path))
    namespace: dict = {"__name__": "readme"}
    try:
        for b in blocks:
            exec(compile(b.code, f"README.md (block at line {b.line})", "exec"), namespace)
    finally:
        plt.close("all")
    assert namespace["proba"].shape == (namespace["val"].n_cases, 2)
    assert namespace["net"].meta["classes"] == ["Normal", "Sensor Failure"]


def test_shell_blocks_run_through_the_command_line(tmp_path, monkeypatch):
    from tsexplain.cli import cli

    blocks = [b for b in BLOCKS if b.lang in SHELLS and not is_setup(b) and runnable(b)]
    assert blocks, "the README shows no command to run"
    work = workdir(tmp_path)
    monkeypatch.chdir(work)
    runner = CliRunner()
    for b in blocks:
        for args in shell_commands(b.code):
            where = f"README.md, block at line {b.line}: {shlex.join(args)}"
            assert args[0] == "tsexplain", f"{where}: not a tsexplain command"
            result = runner.invoke(cli, args[1:])
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise AssertionError(where) from result.exception
            assert result.exit_code == 0, f"{where}\n{result.output}"
    assert (work / "gc.npz").exists() and list(work.glob("*.png"))
    if (SHARED / "data").is_dir():
        assert (work / "ecg_report.html").stat().st_size > 100_000


@pytest.mark.parametrize(
    ("code", "setup"),
    [
        ("make demo    # fresh machine\nmake test    # runs the suite\n", True),
        ("make test\ntsexplain methods\n", False),
        ("tsexplain demo --out x\n", False),
    ],
)
def test_only_the_setup_commands_are_skipped(code, setup):
    assert is_setup(Block("bash", code, 1)) is setup
