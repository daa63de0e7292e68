"""``build_report``: one self-contained, interactive HTML page about a model and a data set."""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._runtime import check_output_location, staged_file
from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError
from tsexplain.evaluate import BenchmarkResult, ResultTable
from tsexplain.explain import Explanation
from tsexplain.report.content import gather
from tsexplain.report.inline import View, page_view
from tsexplain.report.page import render_page
from tsexplain.report.sections import build_sections
from tsexplain.summarize import Prototypes

__all__ = ["build_report", "read_training_history", "report_view"]

log = logging.getLogger(__name__)

_SUFFIXES = (".html", ".htm")


def read_training_history(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The training history saved by ``tsexplain train``, or ``None`` when there is none.

    Parameters
    ----------
    path : path
        A ``metrics.json``, the output folder of ``tsexplain train`` (which holds it beside
        ``model/``) or the model folder inside it.

    Returns
    -------
    dict or None
        ``{"history": [epoch rows], "best_epoch": int, ...}`` as :meth:`FitResult.as_dict
        <tsexplain.train.FitResult.as_dict>` wrote it; ``None`` when no ``metrics.json`` is
        found or it holds no history.

    Raises
    ------
    TsExplainError
        When a ``metrics.json`` exists but is not valid JSON.
    """
    path = Path(path)
    if path.suffix == ".json":
        candidates = [path]
    else:  # the train folder, or the model folder (with its config.json) inside it
        candidates = [path / "metrics.json"]
        if (path / "config.json").is_file():
            candidates.append(path.parent / "metrics.json")
    for file in candidates:
        if not file.is_file():
            continue
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TsExplainError(f"{file}: not a readable metrics file ({exc})") from None
        training = doc.get("training", doc) if isinstance(doc, dict) else None
        if isinstance(training, dict) and isinstance(training.get("history"), list):
            return training
        log.info("%s holds no training history", file)
    return None


def build_report(
    model: Any,
    data: Dataset,
    out: str | os.PathLike[str],
    *,
    methods: Sequence[str] | None = None,
    max_cases: int | None = 500,
    explanations: Mapping[str, Explanation] | None = None,
    history: Any = None,
    evaluation: ResultTable | None = None,
    benchmark: BenchmarkResult | None = None,
    prototypes: bool | Prototypes = True,
    case_ids: Sequence[Any] | np.ndarray | None = None,
    title: str | None = None,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = False,
) -> Path:
    """Write one self-contained interactive HTML report about ``model`` on ``data``.

    The page works offline: Plotly's script is inlined once, the data sits in one compact
    JSON block (real steps only, rounded), and the page requests nothing from any server.
    Its sections: the data and the model's accuracy; training curves (with ``history``);
    a confusion matrix over every case whose cells list their cases; a case browser (pick a
    case and a method, every channel coloured by attribution, the ground-truth region shaded
    when the data has a mask, class probabilities beside); class averages of the series and
    the attributions (:func:`tsexplain.summarize.class_averages`); class prototypes; the
    explanation-quality table (with ``evaluation``) and the ranking of methods with the
    advice which one to trust (with ``benchmark``). Sections without their input are left out, and the page lists them
    with the reason. Every user string (class, channel, method, data set and case names) is
    escaped wherever it appears.

    Parameters
    ----------
    model : torch.nn.Module or callable
        The classifier (as for :func:`tsexplain.explain`).
    data : Dataset
        Labelled series; read as the model was trained (:func:`tsexplain.prepare_for`).
    out : path
        The ``.html`` file to write. It is written to a temporary file beside it and renamed
        when complete; missing parent folders are created.
    methods : list of str, optional
        Explanation methods for the case browser (default ``("gradcam",
        "integrated_gradients")``, leaving out those that cannot explain the model). A named
        method that cannot explain the model raises.
    max_cases : int or None
        Most cases embedded in the page (default 500; ``None``: all). Larger data sets embed a
        sample in which every confusion-matrix cell appears, and the page says how many of how
        many; the counts and the confusion matrix always use every case.
    explanations : dict of str to Explanation, optional
        Explanations already computed for every case of ``data``, in its order; the page shows
        them instead of computing ``methods`` again (it computes the named ``methods`` that are
        missing).
    history : FitResult, dict or list of dict, optional
        The training history (:attr:`FitResult.history <tsexplain.train.FitResult>`, its
        ``as_dict()``, or :func:`read_training_history`'s result).
    evaluation : ResultTable, optional
        From :func:`tsexplain.evaluate`.
    benchmark : BenchmarkResult, optional
        From :func:`tsexplain.benchmark`.
    prototypes : bool or Prototypes
        Show one optimised input per class (activation maximization,
        :func:`tsexplain.summarize.class_prototypes` on ``data``; needs a
        ``torch.nn.Module``); ``False`` leaves them out, a ``Prototypes`` of the model's
        classes is shown as given.
    case_ids : sequence, optional
        What to call each case (default its position ``0, 1, ...`` in ``data``), e.g. its row
        in the user's file.
    title : str, optional
        The page's title (default from the data set's name).
    seed : int
        Seeds the sample and any stochastic method.
    batch_size : int
        Cases per explanation pass.
    progress : bool or None
        Show progress bars on stderr; ``None``: only on a terminal.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    TsExplainError
        For bad input (unknown method, a method that cannot explain the model, ``max_cases``
        below 1, an ``out`` that is a folder or lies below a file, explanations of other
        cases); nothing is written then.

    Examples
    --------
    >>> import tempfile, tsexplain as tx
    >>> from tsexplain.report import build_report
    >>> ds = tx.data.make_sensor_failure(20, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, filters=(4, 8), seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = build_report(model, ds, f"{tmp}/report.html", methods=["gradcam"])
    ...     path.name, path.stat().st_size > 1_000_000
    ('report.html', True)
    """
    t0 = time.perf_counter()
    out = Path(out)
    if out.suffix.lower() not in _SUFFIXES:
        raise TsExplainError(
            f"the report must be an .html file, got {out.name!r}; name it e.g. report.html"
        )
    check_output_location(out, folder=False, option="out")
    page = _render(
        model, data, methods=methods, max_cases=max_cases, explanations=explanations,
        history=history, evaluation=evaluation, benchmark=benchmark, prototypes=prototypes,
        case_ids=case_ids, title=title, seed=seed, batch_size=batch_size, progress=progress,
    )  # fmt: skip
    with staged_file(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    log.info("wrote %s (%.1f MB) in %.1f s", out, len(page) / 1e6, time.perf_counter() - t0)
    return out


def report_view(model: Any, data: Dataset, *, height: int = 900, **options: Any) -> View:
    """The report of :func:`build_report` (same ``options``, no file) shown in a notebook, in
    a sandboxed frame of ``height`` pixels: its scripts run inside the frame and nothing in it
    can clash with the notebook. The page inlines Plotly, so the view adds about 4 MB to the
    notebook; ``.save("report.html")`` writes it as a file.

    Examples
    --------
    >>> import tsexplain as tx
    >>> from tsexplain.report import report_view
    >>> ds = tx.data.make_sensor_failure(20, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, filters=(4, 8), seed=0)
    >>> report_view(model, ds, methods=["gradcam"], prototypes=False)._repr_html_()[:15]
    '<iframe class="'
    """
    known = {
        n for n, p in inspect.signature(_render).parameters.items() if p.kind == p.KEYWORD_ONLY
    }
    unknown = sorted(set(options) - known)
    if unknown:
        raise TsExplainError(
            f"report_view got unknown option(s) {unknown}; it takes {sorted(known)}"
        )
    page = _render(model, data, **options)
    title = options.get("title") or f"tsexplain report: {data.name}"
    return page_view(page, title, height=height)


def _render(
    model: Any,
    data: Dataset,
    *,
    methods: Sequence[str] | None = None,
    max_cases: int | None = 500,
    explanations: Mapping[str, Explanation] | None = None,
    history: Any = None,
    evaluation: ResultTable | None = None,
    benchmark: BenchmarkResult | None = None,
    prototypes: bool | Prototypes = True,
    case_ids: Sequence[Any] | np.ndarray | None = None,
    title: str | None = None,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = False,
) -> str:
    """The report page's HTML (see :func:`build_report` for the options)."""
    t0 = time.perf_counter()
    content = gather(
        model,
        data,
        methods=methods,
        max_cases=max_cases,
        explanations=explanations,
        history=history,
        evaluation=evaluation,
        benchmark=benchmark,
        prototypes=prototypes,
        case_ids=case_ids,
        seed=seed,
        batch_size=batch_size,
        progress=progress,
    )
    t1 = time.perf_counter()
    ds = content.data
    shared = {
        "classes": list(ds.classes),
        "channels": list(ds.channel_names),
        "case_ids": [v.item() if isinstance(v, np.generic) else v for v in content.case_ids],
        "settings": {
            "methods": list(content.explanations),
            "max_cases": max_cases,
            "seed": seed,
            "n_cases": ds.n_cases,
            "n_embedded": len(content.sample),
        },
    }
    page = render_page(
        title or f"tsexplain report: {ds.name}",
        f"model {content.model_name} on {ds.n_cases} cases of {ds.name}",
        build_sections(content),
        shared,
    )
    log.info(
        "report: content in %.1f s, page assembled in %.1f s",
        t1 - t0, time.perf_counter() - t1,
    )  # fmt: skip
    return page
