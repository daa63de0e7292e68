"""The ``tsexplain`` command: thin commands that parse, call the library and print.

Every error a user can cause -- a bad option, a bad file, a bad setting, an output location
that cannot be written -- ends in exactly one ``error: ...`` line on stderr (control characters
escaped) and exit code 2, with no traceback and no half-written output. Output locations are
checked before any work starts.
"""

from __future__ import annotations

import errno
import json
import logging
import re
import sys
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from tsexplain.errors import DataWarning, TsExplainError

if TYPE_CHECKING:
    import numpy as np

EXIT_USAGE = 2

log = logging.getLogger("tsexplain")


# ---------------------------------------------------------------------------- errors
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


class _Group(click.Group):
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


# ---------------------------------------------------------------------------- shared parsing
_PY_LITERALS = {"True": True, "False": False, "None": None}


def parse_value(text: str) -> Any:
    """A setting's value from the command line: JSON (numbers, lists, objects, quoted text,
    true/false/null), Python's ``True``/``False``/``None``, and any other word as text.

    >>> parse_value("64"), parse_value("[1, 2]"), parse_value("False"), parse_value("zeros")
    (64, [1, 2], False, 'zeros')
    """
    text = text.strip()
    if text in _PY_LITERALS:
        return _PY_LITERALS[text]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_setting(item: str, option: str) -> tuple[str, Any]:
    """``"n_steps=64"`` as ``("n_steps", 64)``; the value read by :func:`parse_value`."""
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise TsExplainError(f"{option} expects KEY=VALUE, got {item!r}")
    return key, parse_value(value)


def _settings(items: list[str], option: str, into: dict[str, Any] | None = None) -> dict[str, Any]:
    """``KEY=VALUE`` items as a dict; a key given twice is an error."""
    out = {} if into is None else into
    for item in items:
        key, value = parse_setting(item, option)
        if key in out:
            raise TsExplainError(f"{option}: {key} is set twice; give it once")
        out[key] = value
    return out


_CASE_BOUND = re.compile(r"\d*", re.ASCII)


def parse_cases(spec: str, n_cases: int) -> np.ndarray:
    """Case indices from ``--cases``: ranges ``0:100``, ``10:``, ``:50`` and single cases
    ``3``, comma-separated (``0:10,20``), in the order given.

    Raises :class:`TsExplainError` for a malformed part, a case outside ``[0, n_cases)``, an
    empty range or a case chosen twice.

    >>> parse_cases("0:3,7", 10).tolist()
    [0, 1, 2, 7]
    """
    import numpy as np

    how = "use case numbers from 0 and ranges such as 0:100, 10:, 3,5,9 or 0:10,20"
    out: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        lo, colon, hi = part.partition(":")
        lo, hi = lo.strip(), hi.strip()
        if (
            not part
            or not _CASE_BOUND.fullmatch(lo)
            or not _CASE_BOUND.fullmatch(hi)
            or (not colon and not lo)
        ):
            raise TsExplainError(f"--cases {spec!r}: {part!r} is not a case or a range; {how}")
        last = f"the data has {n_cases} cases, 0 to {n_cases - 1}"
        if not colon:
            if int(lo) >= n_cases:
                raise TsExplainError(f"--cases {spec!r}: case {int(lo)} is out of range; {last}")
            out.append(int(lo))
            continue
        start, stop = int(lo or 0), int(hi) if hi else n_cases
        if stop > n_cases or start >= n_cases:
            raise TsExplainError(f"--cases {spec!r}: range {part} is out of range; {last}")
        if start >= stop:
            raise TsExplainError(f"--cases {spec!r}: range {part} selects no case")
        out.extend(range(start, stop))
    seen: set[int] = set()
    for i in out:
        if i in seen:
            raise TsExplainError(f"--cases {spec!r}: case {i} is chosen twice")
        seen.add(i)
    return np.asarray(out, dtype=np.int64)


# inline settings start at the first ':' followed by KEY=, and are split at ',' before KEY=
_SETTINGS_START = re.compile(r":(?=\s*[A-Za-z_]\w*\s*=)")
_SETTINGS_SPLIT = re.compile(r",(?=\s*[A-Za-z_]\w*\s*=)")
# keywords of tx.explain itself, which a method setting must not shadow
_EXPLAIN_KEYWORDS = {
    "target": "--target",
    "progress": "--progress",
    "batch_size": None,
    "lengths": None,
    "padding": None,
}


def method_settings(methods: tuple[str, ...], params: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The chosen methods in order, each with its settings, from ``--method`` and ``--param``.

    A ``--method`` value is ``NAME:KEY=VALUE,KEY=VALUE`` (one method with inline settings) or
    ``NAME[,NAME...]`` (methods without settings). ``--param KEY=VALUE`` sets a setting of the
    only chosen method, ``--param METHOD.KEY=VALUE`` one of a named method.

    >>> method_settings(("occlusion:window=15,fill=mean",), ("stride=5",))
    {'occlusion': {'window': 15, 'fill': 'mean', 'stride': 5}}
    >>> method_settings(("saliency,integrated_gradients",), ("integrated_gradients.n_steps=8",))
    {'saliency': {}, 'integrated_gradients': {'n_steps': 8}}
    """
    chosen: dict[str, dict[str, Any]] = {}
    for text in methods:
        start = _SETTINGS_START.search(text)
        entries: list[tuple[str, list[str]]]
        if start is None:
            entries = [(n.strip(), []) for n in text.split(",") if n.strip()]
        else:
            inline = _SETTINGS_SPLIT.split(text[start.end() :])
            entries = [(text[: start.start()].strip(), inline)]
            if "," in entries[0][0]:
                raise TsExplainError(
                    f"--method {text!r}: a method with settings stands alone; repeat --method "
                    "for the others"
                )
        for name, inline in entries:
            if name in chosen:
                raise TsExplainError(f"--method {name} is chosen twice; give it once")
            chosen[name] = _settings(inline, f"--method {name}")
    if not chosen:
        raise TsExplainError("--method names no method; see tsexplain methods")
    for item in params:
        key, value = parse_setting(item, "--param")
        method, dot, setting = key.rpartition(".")
        if not dot:
            if len(chosen) > 1:
                raise TsExplainError(
                    f"--param {key}: several methods are chosen ({', '.join(chosen)}); name the "
                    f"method, e.g. --param METHOD.{key}=VALUE"
                )
            method = next(iter(chosen))
        elif method not in chosen:
            raise TsExplainError(
                f"--param {key}: {method!r} is not a chosen method (chosen: {', '.join(chosen)})"
            )
        if setting in chosen[method]:
            raise TsExplainError(f"--param {key}: {setting} of {method} is set twice; give it once")
        chosen[method][setting] = value
    for name, settings in chosen.items():
        for key in settings.keys() & _EXPLAIN_KEYWORDS.keys():
            instead = _EXPLAIN_KEYWORDS[key]
            raise TsExplainError(
                f"{key} is not a setting of {name}"
                + (f"; use {instead}" if instead else "; it is chosen by tsexplain")
            )
    return chosen


# ---------------------------------------------------------------------------- shared options
_device_option = click.option(
    "--device",
    default="auto",
    show_default=True,
    help="'auto' (a GPU when present), 'cpu', 'cuda', 'cuda:1', 'mps'.",
)
_progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar (rate, time left) on stderr; default: only when stderr is a terminal.",
)
_cases_option = click.option(
    "--cases",
    metavar="SPEC",
    default=None,
    help="Use only these cases: ranges and case numbers from 0, e.g. 0:100, 10:, 3,5,9 or 0:10,20.",
)

_model_option = click.option(
    "--model", "model_path", required=True, type=click.Path(path_type=Path), help="Model folder."
)


def _print_report(report: dict[str, Any]) -> None:
    click.echo(
        f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   ({report['n_cases']} cases)"
    )
    classes = report["classes"]
    width = max(len(c) for c in classes) + 2
    col = max(width, 8)
    click.echo("confusion matrix (rows: true, columns: predicted)")
    click.echo(" " * width + "".join(f"{c:>{col}}" for c in classes))
    for name, row in zip(classes, report["confusion_matrix"], strict=True):
        click.echo(f"{name:<{width}}" + "".join(f"{v:>{col}d}" for v in row))


def _device(name: str) -> Any:
    """The torch device for ``--device`` ('auto': the first GPU when one is present)."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise TsExplainError(
            f"--device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {name!r}"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise TsExplainError(f"--device {name}: no Apple GPU (MPS) is available here")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TsExplainError(f"--device {name}: no CUDA GPU is available here; use --device cpu")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise TsExplainError(
            f"--device {name}: only {torch.cuda.device_count()} GPU(s) are available"
        )
    return device


_trust_pickle_option = click.option(
    "--trust-pickle",
    is_flag=True,
    help="Load a pickled classifier (.pkl, .pickle, .joblib). Loading a pickle runs the code it "
    "holds: use only files you made or trust.",
)


def _model_dir(path: Path) -> Path:
    """Accept the model folder itself or an output folder that holds ``model/``."""
    return path / "model" if (path / "model" / "config.json").exists() else path


def _read_for(model: Any, path: Path, cases: str | None) -> tuple[Any, np.ndarray]:
    """The data file read as the model was trained (:func:`tsexplain.prepare_for`), cut to
    ``--cases``; also the chosen case numbers of the file."""
    import numpy as np

    import tsexplain as tx

    ds = tx.data.load(path)
    try:
        ds = tx.prepare_for(model, ds)
    except TsExplainError as exc:
        raise TsExplainError(f"{path}: {exc}") from None
    if cases is None:
        return ds, np.arange(ds.n_cases)
    index = parse_cases(cases, ds.n_cases)
    return ds.subset(index), index


def _target(value: str) -> Any:
    if value in ("predicted", "true"):
        return value
    try:
        return int(value)
    except ValueError:
        raise TsExplainError(
            f"--target must be 'predicted', 'true' or a class index, got {value!r}"
        ) from None


# ---------------------------------------------------------------------------- commands
@click.group("tsexplain", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tsexplain")
@click.option("-v", "--verbose", count=True, help="Log progress (-vv for debug).")
def cli(verbose: int) -> None:
    """Train time-series classifiers and explain their decisions."""
    from tsexplain._runtime import tune_allocator

    tune_allocator()


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed for data, split, weights and training.",
)
@click.option(
    "--n-cases",
    type=click.IntRange(min=20),
    default=1000,
    show_default=True,
    help="Series to generate.",
)
@click.option("--epochs", type=click.IntRange(min=1), default=15, show_default=True)
@_progress_option
def demo(out: Path, seed: int, n_cases: int, epochs: int, progress: bool | None) -> None:
    """The end-to-end sensor-failure study on built-in synthetic data."""
    from tsexplain._runtime import check_output_location, staged_output
    from tsexplain.demo import DemoConfig, run_demo

    check_output_location(out, folder=True)
    cfg = DemoConfig(seed=seed, n_cases=n_cases, epochs=epochs)
    click.echo(
        f"sensor-failure demo: {cfg.n_cases} series, model {cfg.model}, {cfg.epochs} epochs, seed {seed}"
    )
    with staged_output(out) as stage:
        summary = run_demo(stage, cfg, progress=progress)
    click.echo("validation:")
    _print_report(summary["validation"])
    g = summary["gradcam"]
    click.echo(
        f"failures detected {g['detected_failures']}, missed {g['missed_failures']}; Grad-CAM mass inside "
        f"the true failure region (detected): "
        + ("n/a" if g["mass_inside_region_mean"] is None else f"{g['mass_inside_region_mean']:.3f}")
        + (
            ""
            if g["region_share_of_steps_mean"] is None
            else f" (region covers {g['region_share_of_steps_mean']:.3f} of the steps)"
        )
    )
    click.echo(
        f"wrote {out}/ (model, metrics.json, figures/, report.html) in {summary['seconds']['total']:.1f} s"
    )


_RESERVED_MODEL_PARAMS = ("name", "n_channels", "n_classes", "seed")


def _hyperparameters(params: tuple[str, ...]) -> dict[str, Any]:
    """``train --param`` items as model hyperparameters (values by :func:`parse_value`); the
    names the data, ``--model`` and ``--seed`` set are refused."""
    hyper = _settings(list(params), "--param")
    for key in hyper:
        if key in _RESERVED_MODEL_PARAMS:
            raise TsExplainError(
                f"--param {key} is not a model hyperparameter: the data sets channels "
                "and classes, --model the architecture, --seed the seed"
            )
    return hyper


@cli.command()
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Training data file.",
)
@click.option(
    "--model",
    "model_name",
    default="fcn",
    show_default=True,
    help="Architecture (see `tsexplain models`).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder for the model.",
)
@click.option(
    "--val-data",
    type=click.Path(path_type=Path),
    help="Validation file (default: split off --val-fraction).",
)
@click.option(
    "--val-fraction",
    type=click.FloatRange(0, 1, max_open=True),
    default=None,
    help="Hold out this share to pick the epoch; 0: train on every series and pick by training "
    "loss. Default: the recipe's rule (a 10% split when it holds 30 or more cases of every "
    "class, else training loss).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Most epochs (default: the published count, 2000 for fcn and 1500 for the others; "
    "the time budget usually ends training first).",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Training time; no epoch starts that would end past it (0: no limit). An ensemble "
    "shares it between its members.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Series per mini-batch (default: min(16, n/10), as published).",
)
@click.option("--lr", type=click.FloatRange(min=0), default=1e-3, show_default=True)
@click.option(
    "--patience", type=click.IntRange(min=1), default=None, help="Early stopping patience (epochs)."
)
@click.option("--weight-decay", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option(
    "--scheduler",
    type=click.Choice(["none", "plateau", "cosine"]),
    default="plateau",
    show_default=True,
    help="Learning-rate schedule (plateau: halve when the training loss stops falling).",
)
@click.option(
    "--class-weight",
    type=click.Choice(["none", "balanced"]),
    default="none",
    show_default=True,
    help="Weight the loss by inverse class frequency (imbalanced data such as MIT-BIH).",
)
@click.option(
    "--sampling",
    type=click.Choice(["shuffle", "balanced"]),
    default="shuffle",
    show_default=True,
    help="Visit cases once per epoch, or draw every class equally often.",
)
@click.option(
    "--normalise",
    type=click.Choice(["channel", "series", "none"]),
    default=None,
    help="channel (default): standardise each channel with training-set statistics (saved "
    "with the model, applied to every later file); series: z-normalise every series on its "
    "own (erases level and scale; the default for a file already z-normalised); none.",
)
@click.option(
    "--znormalise", is_flag=True, help="Same as --normalise series.", hidden=True
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Model hyperparameter, VALUE as JSON (e.g. --param 'filters=[64,64,64]'); repeat.",
)
@click.option(
    "--precision",
    type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
    default="auto",
    show_default=True,
    help="Training arithmetic; auto: mixed precision on a GPU, float32 on the CPU.",
)
@_device_option
@click.option("--seed", type=int, default=0, show_default=True)
@_progress_option
def train(
    data_path: Path,
    model_name: str,
    out: Path,
    val_data: Path | None,
    val_fraction: float | None,
    epochs: int | None,
    time_budget: float,
    batch_size: int | None,
    lr: float,
    patience: int | None,
    weight_decay: float,
    scheduler: str,
    class_weight: str,
    sampling: str,
    normalise: str | None,
    znormalise: bool,
    params: tuple[str, ...],
    precision: str,
    device: str,
    seed: int,
    progress: bool | None,
) -> None:
    """Train a classifier on a data file and save it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tsexplain as tx
    from tsexplain._runtime import check_output_location, staged_output
    from tsexplain.plot import plot_training_curves
    from tsexplain.train.recipe import validated_by

    check_output_location(out, folder=True)
    if sampling == "balanced" and class_weight != "none":
        raise TsExplainError(
            "--sampling balanced and --class-weight balanced both correct for imbalance; choose one"
        )
    hyper = _hyperparameters(params)
    torch_device = _device(device)
    if znormalise:
        if normalise not in (None, "series"):
            raise TsExplainError("--znormalise is --normalise series; give one of the two")
        normalise = "series"
    if val_data is not None and val_fraction is not None:
        raise TsExplainError("--val-data and --val-fraction both say what validates; give one")
    ds = tx.data.load(data_path)
    va = None
    if val_data is not None:
        va = tx.data.load(val_data)
        if va.n_channels != ds.n_channels:
            raise TsExplainError(
                f"{val_data}: {va.n_channels} channel(s), but {data_path.name} has "
                f"{ds.n_channels}; validate on data with the training data's channels"
            )
        try:
            va = va.with_classes(ds.classes)
        except TsExplainError as exc:
            raise TsExplainError(f"{val_data}: {exc} (the classes of {data_path.name})") from None
    recipe = tx.train.default_recipe(
        ds,
        model_name,
        time_budget=time_budget or None,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        scheduler=scheduler,
        val_fraction=0.0 if va is not None else val_fraction,
        normalise=normalise,
        seed=seed,
    )
    if patience is not None and va is None and recipe.val_fraction == 0:
        raise TsExplainError(
            f"--patience stops on the validation loss, and the recipe trains on every series "
            f"({recipe.rule}); add --val-fraction F or --val-data PATH"
        )
    model = tx.models.build(model_name, ds.n_channels, ds.n_classes, seed=seed, **hyper)
    model.to(torch_device)
    where = (
        f"validating on {va.n_cases}" if va is not None
        else f"validating on a {recipe.val_fraction:.0%} split" if recipe.val_fraction > 0
        else "no validation split"
    )
    click.echo(
        f"training {model_name} on {ds.n_cases} cases, {where} "
        f"({torch_device}, {tx.train.resolve_precision(precision, torch_device)})"
    )
    if va is not None:
        recipe = validated_by(recipe, va)
    click.echo(recipe.describe())
    run = tx.train.train_with_recipe(
        model,
        ds,
        recipe,
        val=va,
        progress=progress,
        weight_decay=weight_decay,
        class_weight=None if class_weight == "none" else class_weight,
        sampling=sampling,
        patience=patience,
        precision=precision,
    )
    result, va = run.result, run.val
    scored = run.scored
    report = tx.classification_report(scored.y, tx.predict(model, scored), scored.classes)
    with staged_output(out) as stage:
        tx.save_model(model, stage / "model")
        (stage / "metrics.json").write_text(
            json.dumps(
                {
                    "validation" if va is not None else "training_series": report,
                    "recipe": model.meta["training"],
                    "training": result.as_dict(),
                },
                indent=2,
            )
        )
        fig = plot_training_curves(result.history)
        fig.savefig(stage / "training_curves.png", dpi=110)
        plt.close(fig)
    if va is None:
        click.echo("on the training series (no validation split):")
    _print_report(report)
    training = model.meta["training"]
    ran, kept = (
        ", ".join(map(str, v)) if isinstance(v, list) else str(v)
        for v in (training["epochs_run"], training["best_epoch"])
    )
    members = f"{len(result.members)} members: " if result.members else ""
    why = {
        "epochs": "all epochs run",
        "time_budget": "time budget reached",
        "converged": "converged",
        "patience": "early stopping",
    }[result.stop_reason]
    click.echo(
        f"{members}{ran} epochs ({why}), kept epoch {kept} by "
        f"{'validation' if va is not None else 'training'} loss; "
        f"wrote {out}/model ({result.seconds:.1f} s)"
    )


@cli.command("explain")
@_model_option
@click.option(
    "--data", "data_path", required=True, type=click.Path(path_type=Path), help="Data file."
)
@click.option(
    "--method",
    "methods",
    multiple=True,
    default=("gradcam",),
    show_default=True,
    metavar="NAME[:KEY=VALUE,...]",
    help="Method, with inline settings (occlusion:window=15,stride=5); repeat or "
    "comma-separate names for several.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="[METHOD.]KEY=VALUE",
    help="A method setting, VALUE as JSON (--param n_steps=64); with several methods name "
    "the method (--param occlusion.window=15); repeat.",
)
@click.option(
    "--target", default="predicted", show_default=True, help="'predicted', 'true' or a class index."
)
@_cases_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("explanations"),
    show_default=True,
    help="Output .npz (one method) or folder; a .zarr store streams the data chunk by chunk "
    "and resumes after a kill.",
)
@click.option(
    "--figures",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also draw the first N cases.",
)
@click.option(
    "--chunk-size",
    type=int,
    default=1024,
    show_default=True,
    help="Cases per chunk of a .zarr store (one chunk in memory at a time; the unit of resuming).",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Explain a .zarr store's chunks on a local Dask cluster of N worker processes.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Explain a .zarr store's chunks on the Dask cluster at ADDRESS (tcp://HOST:PORT).",
)
@_device_option
@_trust_pickle_option
@_progress_option
def explain_cmd(
    model_path: Path,
    data_path: Path,
    methods: tuple[str, ...],
    params: tuple[str, ...],
    target: str,
    cases: str | None,
    out: Path,
    figures: int,
    chunk_size: int,
    workers: int | None,
    scheduler: str | None,
    device: str,
    trust_pickle: bool,
    progress: bool | None,
) -> None:
    """Explain a saved model's decisions on a data file."""
    if out.suffix == ".zarr":
        _explain_to_store(click.get_current_context().params)
        return
    if workers is not None or scheduler is not None:
        raise TsExplainError(
            "--workers and --scheduler write a chunked store: give --out a .zarr path"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tsexplain as tx
    from tsexplain._runtime import check_output_location, staged_output
    from tsexplain.plot import plot_attribution

    chosen = method_settings(methods, params)
    names = list(chosen)
    single_file = out.suffix == ".npz"
    if single_file and len(names) > 1:
        raise TsExplainError(
            f"--out {out} names one .npz file but {len(names)} methods are chosen; give a folder"
        )
    check_output_location(out, folder=not single_file)
    model = tx.load_model(
        _model_dir(model_path), device=_device(device), trust_pickle=trust_pickle
    )
    ds, index = _read_for(model, data_path, cases)
    settings = chosen[names[0]] if len(names) == 1 else {n: s for n, s in chosen.items() if s}
    result = tx.explain(
        model, ds, method=names, target=_target(target), progress=progress, **settings
    )
    explanations = list(result.values())
    folder = out.parent if single_file else out
    with staged_output(folder) as stage:
        for ex in explanations:
            ex.save(stage / (out.name if single_file else f"{ex.method}.npz"))
            for i in range(min(figures, ds.n_cases)):
                case = int(index[i])
                fig = plot_attribution(
                    ds.X[i],
                    ex.attributions[i],
                    length=int(ds.lengths[i]),
                    padding=ds.padding,
                    mask=None if ds.mask is None else ds.mask[i],
                    channel_names=ds.channel_names,
                    title=f"{ex.method}: case {case}, predicted {ds.classes[int(ex.predicted[i])]}",
                )
                fig.savefig(stage / f"{ex.method}_case{case}.png", dpi=110)
                plt.close(fig)
    for ex in explanations:
        gap = getattr(ex, "diagnostics", {}).get("completeness")
        if gap:
            click.echo(
                f"{ex.method}: completeness gap median {gap['median_relative_gap']:.2%}, "
                f"max {gap['max_relative_gap']:.2%}"
            )
    acc = float((explanations[0].predicted == ds.y).mean())
    click.echo(
        f"explained {ds.n_cases} cases with {', '.join(names)} (accuracy on this data {acc:.4f}); wrote {out}"
    )


def _explain_to_store(opts: dict[str, Any]) -> None:
    """``tsexplain explain --out X.zarr`` (``opts``: the command's parameters): the whole file,
    streamed into a resumable store."""
    from tsexplain._runtime import check_output_location
    from tsexplain.scale import explain_to_store

    out, target = opts["out"], opts["target"]
    if opts["cases"] is not None or opts["figures"]:
        raise TsExplainError(
            "a .zarr store holds the whole file: --cases and --figures work with a .npz output"
        )
    if target == "true":
        raise TsExplainError(
            "a .zarr store explains the predicted class or a class index (--target N); "
            "--target true needs the labels read whole: use a .npz output"
        )
    check_output_location(out, folder=True)
    chosen = method_settings(opts["methods"], opts["params"])
    names = list(chosen)
    settings = chosen[names[0]] if len(names) == 1 else dict(chosen)
    run = explain_to_store(
        _model_dir(opts["model_path"]),
        opts["data_path"],
        out,
        method=names,
        target=_target(target),
        chunk_size=opts["chunk_size"],
        workers=opts["workers"],
        scheduler=opts["scheduler"],
        device=str(_device(opts["device"])),
        trust_pickle=opts["trust_pickle"],
        progress=opts["progress"],
        **settings,
    )
    for note in run.notes:
        click.echo(f"note: {note}")
    if not run.computed:
        click.echo(
            f"{out} is complete already: all {run.n_chunks} chunk(s) of {run.n_cases} cases "
            "were finished before; nothing to do"
        )
        return
    rate = run.computed_cases / max(run.seconds, 1e-9)
    resumed = f", {run.resumed} of them finished before (resumed)" if run.resumed else ""
    click.echo(
        f"explained {run.n_cases} cases with {', '.join(names)} in {run.n_chunks} chunk(s) of "
        f"{run.chunk_size}{resumed}; wrote {out} ({run.seconds:.1f} s, {rate:.0f} series/s)"
    )


@cli.command("evaluate")
@_model_option
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Data file the explanations belong to.",
)
@click.option(
    "--explanations",
    "ex_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Explanation .npz, or a .zarr store (evaluated chunk by chunk), from tsexplain explain.",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    help="Metric or group name; repeat (default: all that apply).",
)
@_cases_option
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Write the table as .csv or .json."
)
@click.option("--seed", type=int, default=0, show_default=True)
@_trust_pickle_option
@_progress_option
def evaluate_cmd(
    model_path: Path,
    data_path: Path,
    ex_path: Path,
    metrics: tuple[str, ...],
    cases: str | None,
    out: Path | None,
    seed: int,
    trust_pickle: bool,
    progress: bool | None,
) -> None:
    """Score one method's explanations: localization, faithfulness, sanity, robustness, ...

    With --cases, give the same selection as to `tsexplain explain`.
    """
    import tsexplain as tx
    from tsexplain._runtime import check_output_location

    if out is not None:
        if out.suffix not in (".csv", ".json"):
            raise TsExplainError(f"--out must end in .csv or .json, got {out.name}")
        check_output_location(out, folder=False)
    names = [n for m in metrics for n in m.split(",") if n] or None
    if ex_path.suffix == ".zarr":
        from tsexplain.scale import evaluate_store

        if cases is not None:
            raise TsExplainError("a .zarr store is evaluated whole: --cases works with a .npz")
        table = evaluate_store(
            _model_dir(model_path), data_path, ex_path, names, seed=seed,
            trust_pickle=trust_pickle, progress=progress,
        )
        _print_table(table, out)
        return
    model = tx.load_model(_model_dir(model_path), trust_pickle=trust_pickle)
    ds, _ = _read_for(model, data_path, cases)
    ex = tx.Explanation.load(ex_path)
    if ex.n_cases != ds.n_cases:
        selected = f"--cases {cases} selects" if cases else "holds"
        raise TsExplainError(
            f"{ex_path} explains {ex.n_cases} cases but {data_path} {selected} {ds.n_cases}; "
            "evaluate on the cases that were explained (the same --cases as tsexplain explain)"
        )
    table = tx.evaluate(model, ds, ex, metrics=names, seed=seed, progress=progress)
    _print_table(table, out)


def _print_table(table: Any, out: Path | None) -> None:
    """Write the result table to ``out`` (.csv or .json) if given, and print its summary."""
    if out is not None:
        (table.to_csv if out.suffix == ".csv" else table.to_json)(out)
    click.echo(table.summary())
    for key, why in getattr(table, "skipped", {}).items():
        click.echo(f"skipped {key}: {why}")


@cli.command("benchmark")
@click.option("--model", "model_path", type=click.Path(path_type=Path), help="Model folder.")
@click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path),
    help="Data file (with a mask for localization).",
)
@click.option(
    "--suite",
    default=None,
    help="Instead of --model/--data: train and score on a synthetic benchmark suite "
    "('standard': FreqShapes, SeqComb-UV/MV, LowVar, Switch-Feature, State, Spike).",
)
@click.option(
    "--sets",
    "sets",
    multiple=True,
    help="With --suite: only these data sets; repeat or comma-separate.",
)
@click.option(
    "--n-explain",
    type=click.IntRange(min=2),
    default=30,
    show_default=True,
    help="With --suite: test series explained per data set.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="With --suite: training epochs per data set (default 20).",
)
@click.option(
    "--n-cases",
    type=click.IntRange(min=20),
    default=None,
    help="With --suite: series generated per data set (default: each set's own size).",
)
@click.option(
    "--methods",
    "methods",
    multiple=True,
    help="Method names; repeat or comma-separate (default: all).",
)
@_cases_option
@click.option(
    "--max-cases",
    type=click.IntRange(min=1),
    default=None,
    help="Use the first N cases (as --cases :N).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("benchmark"),
    show_default=True,
)
@click.option("--seed", type=int, default=0, show_default=True)
@_trust_pickle_option
@_progress_option
def benchmark_cmd(
    model_path: Path | None,
    data_path: Path | None,
    suite: str | None,
    sets: tuple[str, ...],
    n_explain: int,
    epochs: int | None,
    n_cases: int | None,
    methods: tuple[str, ...],
    cases: str | None,
    max_cases: int | None,
    out: Path,
    seed: int,
    trust_pickle: bool,
    progress: bool | None,
) -> None:
    """Compare explanation methods on one model and data set, rank them, write table and figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tsexplain as tx
    from tsexplain._runtime import check_output_location, staged_output
    from tsexplain.plot import plot_curves, plot_rank_heatmap

    names = [n for m in methods for n in m.split(",") if n] or None
    if suite is not None:
        _suite(suite, model_path, data_path, cases, max_cases, sets, names, n_explain, epochs,
               n_cases, out, seed, progress)
        return
    if model_path is None or data_path is None:
        raise TsExplainError(
            "benchmark needs --model and --data (a trained model and its data), or --suite NAME "
            "(train and score on a synthetic suite, e.g. --suite standard)"
        )
    if sets or epochs is not None or n_cases is not None:
        raise TsExplainError("--sets, --epochs and --n-cases go with --suite")
    if cases is not None and max_cases is not None:
        raise TsExplainError("give --cases or --max-cases, not both")
    check_output_location(out, folder=True)
    model = tx.load_model(_model_dir(model_path), trust_pickle=trust_pickle)
    ds, _ = _read_for(model, data_path, cases)
    if max_cases is not None and max_cases < ds.n_cases:
        ds = ds.subset(list(range(max_cases)))
    result = tx.benchmark(model, ds, names, seed=seed, progress=progress)
    with staged_output(out) as stage:
        (stage / "metrics.csv").write_text(result.table.to_csv(), encoding="utf-8")
        (stage / "ranking.json").write_text(json.dumps(result.as_dict(), indent=2))
        for name, fig in (
            ("rank_heatmap.png", plot_rank_heatmap(result)),
            ("deletion_curves.png", plot_curves(result.table.curves, kind="deletion")),
            ("insertion_curves.png", plot_curves(result.table.curves, kind="insertion")),
        ):
            fig.savefig(stage / name, dpi=110)
            plt.close(fig)
    click.echo(result.summary())
    click.echo(f"wrote {out}/ (metrics.csv, ranking.json, figures)")


def _suite(
    suite: str,
    model_path: Path | None,
    data_path: Path | None,
    cases: str | None,
    max_cases: int | None,
    sets: tuple[str, ...],
    methods: list[str] | None,
    n_explain: int,
    epochs: int | None,
    n_cases: int | None,
    out: Path,
    seed: int,
    progress: bool | None,
) -> None:
    """``tsexplain benchmark --suite NAME``: train, explain and score on each synthetic set."""
    from tsexplain._runtime import check_output_location, staged_output
    from tsexplain.evaluate.suite import run_suite

    given = [flag for flag, v in (("--model", model_path), ("--data", data_path), ("--cases", cases),
                                  ("--max-cases", max_cases)) if v is not None]
    if given:
        raise TsExplainError(
            f"--suite trains its own models on its own data; leave out {', '.join(given)}"
        )
    check_output_location(out, folder=True)
    chosen = [n for s in sets for n in s.split(",") if n] or None
    kw: dict[str, Any] = {} if epochs is None else {"epochs": epochs}
    from tsexplain.evaluate.suite import set_summary

    result = run_suite(suite, sets=chosen, methods=methods, n_explain=n_explain, seed=seed,
                       n_cases=n_cases, progress=progress,
                       on_set=lambda s: click.echo(set_summary(s)), **kw)
    with staged_output(out) as stage:
        result.save(stage)
    if result.comparison_text():
        click.echo(result.comparison_text())
    click.echo(f"wrote {out}/ (suite.csv, suite.json)")


@cli.command("report")
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Model folder (or the output folder of tsexplain train: its training curves are shown).",
)
@click.option(
    "--data", "data_path", required=True, type=click.Path(path_type=Path), help="Data file."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="Output .html file (missing folders are created).",
)
@click.option(
    "--methods",
    "methods",
    multiple=True,
    help="Explanation methods of the case browser; repeat or comma-separate "
    "(default: gradcam and integrated_gradients, where they apply).",
)
@click.option(
    "--max-cases",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Most cases embedded in the page (a sample in which every confusion-matrix cell "
    "appears); counts and the confusion matrix use every case.",
)
@_cases_option
@click.option(
    "--evaluation",
    "evaluation_path",
    type=click.Path(path_type=Path),
    default=None,
    help="An evaluation table (.json from tsexplain evaluate --out) to show.",
)
@click.option(
    "--explanations",
    "ex_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Explanations already computed for these cases (an .npz or the folder from "
    "tsexplain explain); shown instead of computing --methods.",
)
@click.option(
    "--prototypes/--no-prototypes",
    default=True,
    show_default=True,
    help="Optimise and show one input per class (activation maximization).",
)
@_device_option
@click.option("--seed", type=int, default=0, show_default=True)
@_trust_pickle_option
@_progress_option
def report_cmd(
    model_path: Path,
    data_path: Path,
    out: Path,
    methods: tuple[str, ...],
    max_cases: int,
    cases: str | None,
    evaluation_path: Path | None,
    ex_path: Path | None,
    prototypes: bool,
    device: str,
    seed: int,
    trust_pickle: bool,
    progress: bool | None,
) -> None:
    """Write one self-contained interactive HTML report of a model on a data file."""
    import time

    import tsexplain as tx
    from tsexplain._runtime import check_output_location, format_bytes
    from tsexplain.evaluate import ResultTable
    from tsexplain.report import build_report, read_training_history

    t0 = time.perf_counter()
    if out.suffix.lower() not in (".html", ".htm"):
        raise TsExplainError(f"--out must end in .html, got {out.name}")
    check_output_location(out, folder=False)
    names = [n.strip() for m in methods for n in m.split(",") if n.strip()] or None
    model = tx.load_model(
        _model_dir(model_path), device=_device(device), trust_pickle=trust_pickle
    )
    history = read_training_history(model_path)
    evaluation = None if evaluation_path is None else ResultTable.read_json(evaluation_path)
    ds, index = _read_for(model, data_path, cases)
    given = None
    if ex_path is not None:
        files = sorted(ex_path.glob("*.npz")) if ex_path.is_dir() else [ex_path]
        if not files:
            raise TsExplainError(f"--explanations {ex_path}: the folder holds no .npz file")
        given = {ex.method: ex for ex in map(tx.Explanation.load, files)}
    path = build_report(
        model,
        ds,
        out,
        methods=names,
        explanations=given,
        max_cases=max_cases,
        history=history,
        evaluation=evaluation,
        prototypes=prototypes,
        case_ids=index,
        seed=seed,
        progress=progress,
    )
    shown = min(max_cases, ds.n_cases)
    click.echo(
        f"wrote {path} ({format_bytes(path.stat().st_size)}; {shown} of {ds.n_cases} cases "
        f"in the page) in {time.perf_counter() - t0:.1f} s"
    )


@cli.command()
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output .npz."
)
@click.option("--n-cases", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--padding", type=click.Choice(["left", "right"]), default="left", show_default=True)
def generate(out: Path, n_cases: int, seed: int, padding: str) -> None:
    """Write a synthetic sensor-failure data set (with its ground-truth mask) to an .npz."""
    import tsexplain as tx
    from tsexplain._runtime import check_output_location

    check_output_location(out if out.suffix == ".npz" else out.with_suffix(".npz"), folder=False)
    ds = tx.data.make_sensor_failure(n_cases, padding=padding, seed=seed)
    path = ds.save(out)
    click.echo(f"wrote {path}: {ds}")


@cli.command()
def methods() -> None:
    """List the explanation methods."""
    from tsexplain._catalog import declared

    _print_catalog(declared("explain", "register_method"))


@cli.command()
def models() -> None:
    """List the model architectures."""
    from tsexplain._catalog import declared

    _print_catalog(declared("models", "register_model"))


def _print_catalog(items: dict[str, str]) -> None:
    width = max(len(n) for n in items)
    for name, description in items.items():
        click.echo(f"{name:<{width}}  {description}")


def main() -> None:
    """Console entry point."""
    cli.main(prog_name="tsexplain")


if __name__ == "__main__":  # pragma: no cover
    main()
