"""The command line's frame: every error a user can cause ends in one ``error: ...`` line.

A bad option, a bad file, a bad setting, an output location that cannot be written: each ends
in exactly one ``error: ...`` line on stderr (control characters escaped) and exit code 2, with
no traceback and no half-written output. Library warnings meant for the user
(:class:`~tsexplain.errors.DataWarning`) print as ``warning:`` lines, and ``-v`` log lines
stay whole around a progress bar.
"""

from __future__ import annotations

import errno
import logging
import sys
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from tsexplain.errors import DataWarning, TsExplainError

__all__ = ["EXIT_USAGE", "Group", "escape_control"]

EXIT_USAGE = 2

log = logging.getLogger("tsexplain")


_ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def escape_control(text: str) -> str:
    r"""``text`` with control, format and line-separator characters written as escapes, so a
    message stays on one line: ``"a\nb"`` becomes ``"a\\nb"``.

    >>> escape_control("data\nfile\x1b[31m.csv")
    'data\\nfile\\x1b[31m.csv'
    """
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in _ESCAPED_CATEGORIES
        else ch
        for ch in text
    )


def _echo_error(message: str) -> None:
    click.echo(f"error: {escape_control(message)}", err=True)


class _UserError(click.ClickException):
    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        _echo_error(self.format_message())


def _usage_message(exc: click.ClickException) -> str:
    """Click's own error (bad option value, unknown option or command, missing option) as one
    line naming the command and where its help is."""
    message = exc.format_message().strip()
    ctx = getattr(exc, "ctx", None)
    if ctx is None or isinstance(exc, _UserError):
        return message
    message = message.rstrip(".")
    if message[:1].isupper() and message[1:2].islower():  # "Missing option" -> "missing option"
        message = message[0].lower() + message[1:]
    return f"{ctx.command_path}: {message}; see {ctx.command_path} --help"


# OS errors a user causes through the environment (paths, permissions, a full disk).
_USER_ERRNOS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOENT: "no such file or folder",
    errno.EISDIR: "is a folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EEXIST: "already exists",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.ENAMETOOLONG: "file name too long",
    errno.ELOOP: "too many levels of symbolic links",
}


class Group(click.Group):
    """Turns click's usage errors and the library's input errors into one-line messages with
    exit code 2, and sets up logging for the duration of a command."""

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.Abort:
            _fail("interrupted; no output was written")
        except click.ClickException as exc:
            _fail(_usage_message(exc))
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        with _logging(ctx.params.get("verbose", 0)), _data_warnings():
            try:
                return super().invoke(ctx)
            except TsExplainError as exc:
                raise _UserError(str(exc)) from None
            except OSError as exc:
                if exc.errno not in _USER_ERRNOS:
                    raise
                where = exc.filename if exc.filename is not None else "output"
                raise _UserError(f"{where}: {_USER_ERRNOS[exc.errno]}") from None
            except MemoryError:
                raise _UserError(
                    "not enough memory for this job; use fewer cases (--cases) or a machine "
                    "with more memory"
                ) from None
            except KeyboardInterrupt:
                raise _UserError("interrupted; no output was written") from None


@contextmanager
def _data_warnings() -> Iterator[None]:
    """Print the library's :class:`DataWarning` s as ``warning:`` lines on stderr (each once)
    while a command runs; the command goes on."""
    previous = warnings.showwarning

    def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        if issubclass(category, DataWarning):
            from tqdm import tqdm

            tqdm.write(f"warning: {message}", file=sys.stderr)
        else:
            previous(message, category, *args, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("default", DataWarning)
        warnings.showwarning = show
        yield


def _fail(message: str) -> NoReturn:
    _echo_error(message)
    sys.exit(EXIT_USAGE)


class _ProgressSafeHandler(logging.StreamHandler):
    """Writes log lines through tqdm, so that a progress bar on the same stream is cleared
    and redrawn instead of being broken by them."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=self.stream)
            self.flush()
        except Exception:
            self.handleError(record)


@contextmanager
def _logging(verbose: int) -> Iterator[None]:
    """Log the library's messages to stderr (WARNING; ``-v`` INFO, ``-vv`` DEBUG) while a
    command runs; the logger's previous level and handlers are restored after."""
    handler = _ProgressSafeHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    previous = log.level
    log.addHandler(handler)
    log.setLevel(logging.WARNING - 10 * min(int(verbose or 0), 2))
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)
