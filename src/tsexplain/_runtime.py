"""Process-level tuning, the memory at hand, and atomic output written with the user's umask."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from tsexplain.errors import TsExplainError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "available_memory",
    "check_output_location",
    "fair_threads",
    "format_bytes",
    "free_cores",
    "new_file_mode",
    "save_and_close",
    "staged_file",
    "staged_output",
    "staging_beside",
    "tune_allocator",
]

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


# ---------------------------------------------------------------------------- memory
def available_memory() -> int | None:
    """Bytes of memory the process can still take without swapping, or ``None`` if unknown.

    Linux's ``MemAvailable`` (free plus reclaimable cache), lowered to the cgroup's limit when
    the process runs in a container with less; elsewhere the free physical pages.
    """
    found: int | None = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        found = None
    if found is None:
        try:
            found = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            return None
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            found = min(found, max(int(limit) - usage, 0))
        break
    return found


def format_bytes(n: float) -> str:
    """``1536`` as ``"1.5 KiB"``: a byte count in binary units, for messages."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------- file modes
def _umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic read-by-setting, restored at once
    os.umask(mask)
    return mask


def new_file_mode(folder: bool = False) -> int:
    """The mode an ordinary new file (``0o666``) or folder (``0o777``) gets under the umask.

    Temporary files and folders (``tempfile``) are private (``0o600`` / ``0o700``); output that
    is staged in them gets this mode before it is moved into place, so results are as readable
    as any file the user writes (``0o644`` / ``0o755`` under the usual umask ``022``).
    """
    return (0o777 if folder else 0o666) & ~_umask()


# ---------------------------------------------------------------------------- output location
def check_output_location(
    out: str | os.PathLike[str], *, folder: bool, option: str = "--out"
) -> Path:
    """Check, before any work, that ``out`` can be written; create nothing.

    ``out`` must be a folder (``folder=True``) or a file that may be replaced. Every existing
    part of its path above it must be a folder, and the nearest existing one writable, so that
    a long job does not fail at the end on an impossible output location.

    Raises :class:`~tsexplain.errors.TsExplainError` naming the part of the path at fault.
    """
    out = Path(out)
    if not folder and out.name in ("", ".", ".."):
        raise TsExplainError(f"{option} {out}: names a folder, not a file; give a file name")
    if out.exists() or out.is_symlink():
        if folder and not out.is_dir():
            raise TsExplainError(
                f"{option} {out}: exists and is not a folder; choose another {option}"
            )
        if not folder and out.is_dir():
            raise TsExplainError(f"{option} {out}: is a folder; give a file name")
        if not os.access(out if out.is_dir() else out.parent, os.W_OK | os.X_OK):
            why = _not_writable(out if out.is_dir() else out.parent)
            raise TsExplainError(f"{option} {out}: {why}; choose another {option}")
        return out
    parent = out.parent
    for up in (parent, *parent.parents):
        if up.exists():
            if not up.is_dir():
                raise TsExplainError(
                    f"{option} {out}: {up} is a file, not a folder; choose another {option}"
                )
            if not os.access(up, os.W_OK | os.X_OK):
                raise TsExplainError(
                    f"{option} {out}: cannot create it in {up} ({_not_writable(up)}); "
                    f"choose another {option}"
                )
            return out
        if up.is_symlink():  # a link to nowhere
            raise TsExplainError(f"{option} {out}: {up} is a broken link; choose another {option}")
    return out  # pragma: no cover - the root always exists


def _not_writable(folder: Path) -> str:
    """Why ``folder`` cannot be written: a read-only file system, or permissions."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError:
        pass
    return "permission denied"


@contextmanager
def _parents_made(folder: Path) -> Iterator[None]:
    """Create ``folder`` (and missing parents) for the duration; on failure remove again those
    of them that were created here and are still empty."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for p in missing:  # deepest first
            try:
                p.rmdir()
            except OSError:
                break
        raise


def _stage_head(out: Path) -> str:
    """The start of the hidden name of this host's staging files and folders for ``out``."""
    host = "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname())
    return f".{out.name}.tmp-{host}-"


def _stage_prefix(out: Path) -> str:
    """The hidden name of a staging file or folder for ``out``: it names the host and the
    process, so a later job can tell one left by a killed process from a live one."""
    return f"{_stage_head(out)}{os.getpid()}-"


def _sweep_stale(out: Path) -> None:
    """Remove the staging files and folders beside ``out`` that a process of this host left
    when it was killed (SIGKILL, power loss): their process no longer runs."""
    head = _stage_head(out)
    try:
        candidates = [p for p in out.parent.iterdir() if p.name.startswith(head)]
    except OSError:
        return
    for stale in candidates:
        try:
            pid = int(stale.name[len(head) :].split("-", 1)[0])
        except ValueError:
            continue
        if pid == os.getpid() or _running(pid):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # PermissionError: another user's process, running
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


@contextmanager
def _named_for(out: Path) -> Iterator[None]:
    """An ``OSError`` on a file of the hidden staging area names ``out``, the path the user
    gave, not the staging file's name."""
    try:
        yield
    except OSError as exc:
        name = exc.filename
        staged = name is not None and any(
            part.startswith(f".{out.name}.tmp-") for part in Path(os.fspath(name)).parts
        )
        if not staged:
            raise
        raise OSError(exc.errno, exc.strerror, str(out)) from None


@contextmanager
def staging_beside(out: Path) -> Iterator[str]:
    """The frame of every staged write of ``out``: create its missing parent folders (removed
    again if the block fails), remove what killed jobs left beside it, and name ``out`` in an
    ``OSError`` from the staging area; yields the name prefix for a new staging file or folder.
    """
    with _parents_made(out.parent), _named_for(out):
        _sweep_stale(out)
        yield _stage_prefix(out)


@contextmanager
def staged_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``path``; on success it becomes ``path``.

    The file gets the mode the umask gives a new file; a failure (or Ctrl-C) inside the block
    removes the temporary file and any parent folders created for it, and leaves an existing
    ``path`` untouched.
    """
    path = Path(path)
    with staging_beside(path) as prefix:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
        tmp = Path(name)
        try:
            os.close(fd)
            yield tmp
            os.chmod(tmp, new_file_mode())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


@contextmanager
def staged_output(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a job's files into a hidden folder beside ``out`` and move them in only on success.

    A job that fails (bad input, a crash, Ctrl-C) leaves ``out`` exactly as it was, and removes
    the parent folders it created. Files keep the modes they were written with; the staging
    folder's own private mode is not passed on.
    """
    out = Path(out)
    check_output_location(out, folder=True)
    with staging_beside(out) as prefix:
        stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=prefix))
        try:
            yield stage
            if not out.exists():
                os.chmod(stage, new_file_mode(folder=True))
                os.replace(stage, out)
                return
            for item in sorted(stage.iterdir()):
                dest = out / item.name
                if dest.is_dir() and not dest.is_symlink():
                    shutil.rmtree(dest)
                os.replace(item, dest)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def save_and_close(fig: Any, target: Any, **options: Any) -> None:
    """``fig.savefig(target, **options)``, then close ``fig``, also when saving fails (a full
    disk), so no figure stays open in a long-lived process."""
    import matplotlib.pyplot as plt

    try:
        fig.savefig(target, **options)
    finally:
        plt.close(fig)


_FREE_CORES: dict[str, float] = {}  # the last measurement: its time and value
_FREE_CORES_TTL_S = 10.0


def free_cores() -> int | None:
    """How many of the CPU cores this process may run on are idle, measured over 50 ms from
    the kernel's per-core counters (``/proc/stat``) and kept for 10 s; ``None`` where the system
    does not say (not Linux)."""
    now = time.monotonic()
    if now - _FREE_CORES.get("at", -1e9) < _FREE_CORES_TTL_S:
        return int(_FREE_CORES["value"])
    try:
        allowed = os.sched_getaffinity(0)
        first = _core_times()
        time.sleep(0.05)
        second = _core_times()
    except (AttributeError, OSError, ValueError, IndexError):
        return None
    idle = 0.0
    for core in allowed:
        if core in first and core in second:
            busy0, total0 = first[core]
            busy1, total1 = second[core]
            if total1 > total0:
                idle += 1.0 - (busy1 - busy0) / (total1 - total0)
            else:  # no tick in the interval: count the core as free
                idle += 1.0
    value = max(1, round(idle))
    _FREE_CORES.update(at=now, value=value)
    return value


def _core_times() -> dict[int, tuple[int, int]]:
    """Per core: the busy and total ticks since boot (idle and I/O wait count as not busy)."""
    out = {}
    with open("/proc/stat", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("cpu") and line[3].isdigit():
                name, *fields = line.split()
                ticks = [int(v) for v in fields[:8]]
                idle = ticks[3] + ticks[4]
                out[int(name[3:])] = (sum(ticks) - idle, sum(ticks))
    return out


def fair_threads(fn: F) -> F:
    """Run ``fn`` with PyTorch's intra-op threads limited to the free cores (never raised).

    An operation split over more threads than there are free cores waits at every parallel
    region for a thread the system has descheduled: beside one busy process on two cores,
    Integrated Gradients on a small LSTM took 30 times as long on two threads as on one
    (``benchmarks/threads.py``). The count the caller set is restored afterwards.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import torch

        before = torch.get_num_threads()
        free = free_cores()
        wanted = before if free is None else min(before, free)
        if wanted == before:
            return fn(*args, **kwargs)
        torch.set_num_threads(wanted)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return wrapper  # type: ignore[return-value]
