"""``benchmarks/accuracy.py --defaults``: every archive set trained by ``tsexplain train --data
FILE`` and no other option, scored on the archive's test split beside published figures.

For each set of :data:`archive_sets.SETS` (fetched on first use, see that module), this runs
the command line exactly as a user would, ``tsexplain train --data <Name>_TRAIN --out DIR``
(with ``--model NAME`` only when another architecture than the default FCN is asked for),
times it from start to exit, then loads the saved model and scores it on ``<Name>_TEST``
read as the model was trained (:func:`tsexplain.prepare_for`: the training statistics of
its per-channel standardisation). Nothing is chosen on the test split. For an ensemble the
test accuracy of averaging the members' probabilities (the InceptionTime paper's rule) is
reported beside the model's own (averaged logits).

A row prints as each set finishes and the results file is rewritten after each, so an
interrupted run keeps what it measured. The summary counts the sets within 0.02 of the
published FCN figure.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import tsexplain as tx
from archive_sets import PUBLISHED, SETS, set_files

RESULTS = Path(__file__).resolve().parent / "results"
#: within this much of the published FCN figure counts as reaching it
MARGIN = 0.02
#: cheap sets first, so that a partial run has the most rows
ORDER = (
    "ItalyPowerDemand",
    "Coffee",
    "BasicMotions",
    "GunPoint",
    "ECG200",
    "ArrowHead",
    "JapaneseVowels",
    "Trace",
    "PickupGestureWiimoteZ",
    "OSULeaf",
    "ACSF1",
    "PigCVP",
    "PLAID",
    "FordA",
)


def _tsexplain() -> str:
    exe = Path(sys.executable).with_name("tsexplain")
    return str(exe) if exe.exists() else "tsexplain"


def train_and_score(name: str, model: str, work: Path) -> dict[str, Any]:
    """Train ``name`` with the command line's defaults and score the test split."""
    train_file, test_file = set_files(name)
    out = work / name
    cmd = [_tsexplain(), "train", "--data", str(train_file), "--out", str(out)]
    if model != "fcn":
        cmd += ["--model", model]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: {' '.join(cmd)} failed:\n{proc.stderr.strip()}")
    net = tx.load_model(out / "model")
    test = tx.prepare_for(net, tx.data.load(test_file))
    accuracy = float((tx.predict(net, test) == test.y).mean())
    recipe = net.meta["training"]
    row: dict[str, Any] = {
        "set": name,
        "model": model,
        "kind": SETS[name].kind,
        "n_train": SETS[name].n_train,
        "test_accuracy": accuracy,
        "wall_seconds": wall,
        "train_seconds": recipe["seconds"],
        "epochs_run": recipe["epochs_run"],
        "stop_reason": recipe["stop_reason"],
        "selection": recipe["monitor"],
        "batch_size": recipe["batch_size"],
        "warnings": [ln for ln in proc.stderr.splitlines() if ln.startswith("warning:")],
        "published": {k: PUBLISHED[name][k] for k in ("fcn", "resnet", "inception")},
    }
    members = getattr(net, "members", None)
    if members is not None:
        with torch.no_grad():
            probs = np.mean([tx.predict_proba(m, test) for m in members], axis=0)
        row["test_accuracy_mean_probabilities"] = float((probs.argmax(1) == test.y).mean())
    return row


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:.3f} "


def print_row(row: dict[str, Any]) -> None:
    pub = row["published"]
    fcn = pub["fcn"]
    mark = "" if fcn is None else ("  ok" if row["test_accuracy"] >= fcn - MARGIN else "  below")
    epochs = row["epochs_run"]
    epochs = sum(epochs) if isinstance(epochs, list) else epochs
    print(
        f"{row['set']:<22} {row['test_accuracy']:.3f}  {_fmt(fcn)} {_fmt(pub['resnet'])} "
        f"{_fmt(pub['inception'])} {row['wall_seconds']:7.0f} s {epochs:6d} "
        f"{row['stop_reason']:<12} {row['selection']:<9}{mark}",
        flush=True,
    )


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sets within :data:`MARGIN` of the published FCN figure, and the means."""
    scored = [r for r in rows if r["published"]["fcn"] is not None]
    reached = [r["set"] for r in scored if r["test_accuracy"] >= r["published"]["fcn"] - MARGIN]
    out = {
        "sets": len(rows),
        "with_fcn_figure": len(scored),
        "within_margin_of_fcn": reached,
        "mean_accuracy": statistics.mean(r["test_accuracy"] for r in rows) if rows else None,
        "mean_accuracy_on_fcn_sets": (
            statistics.mean(r["test_accuracy"] for r in scored) if scored else None
        ),
        "mean_published_fcn": (
            statistics.mean(r["published"]["fcn"] for r in scored) if scored else None
        ),
        "wall_seconds": sum(r["wall_seconds"] for r in rows),
    }
    return out


def run_defaults(model: str, names: list[str], out: Path | None) -> int:
    out = out or RESULTS / f"defaults-{model}.json"
    from accuracy import environment

    env = environment()
    print(
        f"tsexplain train --data FILE{'' if model == 'fcn' else ' --model ' + model} on "
        f"{len(names)} archive sets; torch {torch.__version__}, {os.cpu_count()} CPUs, load "
        f"average {env['load_average_at_start'][0]:.2f}"
    )
    print(
        f"{'set':<22} {'test':<6} {'FCN':<6} {'ResNet':<6} {'Incep.':<6} {'wall':>9} "
        f"{'epochs':>6} {'stop':<12} {'selection'}"
    )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tsexplain-defaults-") as tmp:
        for name in names:
            row = train_and_score(name, model, Path(tmp))
            rows.append(row)
            print_row(row)
            for line in row["warnings"]:
                print(f"    {line}")
            _write(out, env, rows)
    summary = summarise(rows)
    if summary["with_fcn_figure"]:
        print(
            f"\nwithin {MARGIN} of the published FCN: {len(summary['within_margin_of_fcn'])} of "
            f"{summary['with_fcn_figure']} sets with a figure; mean test accuracy "
            f"{summary['mean_accuracy_on_fcn_sets']:.3f} against the published FCN mean "
            f"{summary['mean_published_fcn']:.3f} on those sets"
        )
    print(f"{summary['wall_seconds'] / 60:.1f} min in all")
    _write(out, env, rows, summary)
    print(f"written {out}")
    return 0


def _write(out: Path, env: dict[str, Any], rows: list[dict[str, Any]], summary: Any = None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    body = {"environment": env, "results": rows, "summary": summary}
    tmp.write_text(json.dumps(body, indent=1))
    os.replace(tmp, out)
