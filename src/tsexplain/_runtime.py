"""Process-level tuning and atomic output folders."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["staged_output", "tune_allocator"]

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_allocator() -> bool:
    """Keep large freed blocks in the process instead of returning them to the system.

    glibc's malloc returns big tensor buffers to the kernel after every use by default, so each
    forward/backward pass pays page faults again; raising the mmap and trim thresholds (as
    ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` do at start-up) avoids that. Returns
    whether the setting took effect (only on glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        ok_mmap = libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)  # glibc's maximum
        ok_trim = libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    except (OSError, AttributeError):
        return False
    return bool(ok_mmap and ok_trim)


@contextmanager
def staged_output(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a job's files into a hidden folder beside ``out`` and move them in only on success.

    A job that fails (bad input, a crash, Ctrl-C) leaves ``out`` exactly as it was.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not out.is_dir():
        from tsexplain.errors import TsExplainError

        raise TsExplainError(f"{out} exists and is not a folder; choose another --out")
    stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        yield stage
        out.mkdir(exist_ok=True)
        for item in sorted(stage.iterdir()):
            dest = out / item.name
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            os.replace(item, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
