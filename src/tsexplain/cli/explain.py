"""``tsexplain explain``: explain a saved model's decisions on a data file, in memory or
streamed into a resumable store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tsexplain.cli._common import (
    cases_option,
    complete_names,
    data_option,
    device_option,
    labels_option,
    model_dir,
    model_option,
    progress_option,
    read_for,
    torch_device,
    trust_pickle_option,
)
from tsexplain.cli._parse import method_settings, parse_target
from tsexplain.errors import TsExplainError


@click.command("explain")
@model_option()
@data_option()
@labels_option
@click.option(
    "--method",
    "methods",
    multiple=True,
    shell_complete=complete_names("methods"),
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
@cases_option
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
@device_option
@trust_pickle_option
@progress_option
def command(
    model_path: Path,
    data_path: Path,
    labels: Path | None,
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
    import tsexplain as tx
    from tsexplain._runtime import check_output_location

    chosen = method_settings(methods, params)
    names = list(chosen)
    single_file = out.suffix == ".npz"
    if single_file and len(names) > 1:
        raise TsExplainError(
            f"--out {out} names one .npz file but {len(names)} methods are chosen; give a folder"
        )
    check_output_location(out, folder=not single_file)
    model = tx.load_model(
        model_dir(model_path), device=torch_device(device), trust_pickle=trust_pickle
    )
    ds, index = read_for(model, data_path, cases, labels)
    settings = chosen[names[0]] if len(names) == 1 else {n: s for n, s in chosen.items() if s}
    result = tx.explain(
        model, ds, method=names, target=parse_target(target), progress=progress, **settings
    )
    explanations = list(result.values())
    _write(out, explanations, index, figures)
    for ex in explanations:
        gap = getattr(ex, "diagnostics", {}).get("completeness")
        if gap:
            click.echo(
                f"{ex.method}: completeness gap median {gap['median_relative_gap']:.2%}, "
                f"max {gap['max_relative_gap']:.2%}"
            )
    score = (
        "unlabelled data, the predicted class explained"
        if ds.y is None
        else f"accuracy on this data {float((explanations[0].predicted == ds.y).mean()):.4f}"
    )
    click.echo(f"explained {ds.n_cases} cases with {', '.join(names)} ({score}); wrote {out}")


def _write(out: Path, explanations: list[Any], index: Any, figures: int) -> None:
    """Each explanation's .npz (``out`` itself for one method, else ``out/<method>.npz``) and
    the figures of the first ``figures`` cases, all or nothing."""
    import matplotlib

    matplotlib.use("Agg")
    from tsexplain._runtime import save_and_close, staged_output

    single_file = out.suffix == ".npz"
    with staged_output(out.parent if single_file else out) as stage:
        for ex in explanations:
            ex.save(stage / (out.name if single_file else f"{ex.method}.npz"))
            for i in range(min(figures, ex.n_cases)):
                case = int(index[i])  # the case's number in the file
                predicted = ex.class_name(ex.predicted[i])
                fig = ex.plot(i, title=f"{ex.method}: case {case}, predicted {predicted}")
                save_and_close(fig, stage / f"{ex.method}_case{case}.png", dpi=110)


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
    if opts["labels"] is not None:
        raise TsExplainError(
            "a .zarr store explains the predicted class or a class index and reads no labels; "
            "leave out --labels (or use a .npz output)"
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
        model_dir(opts["model_path"]),
        opts["data_path"],
        out,
        method=names,
        target=parse_target(target),
        chunk_size=opts["chunk_size"],
        workers=opts["workers"],
        scheduler=opts["scheduler"],
        device=str(torch_device(opts["device"])),
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
