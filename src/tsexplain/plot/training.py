"""Figures about the data and the classifier: class histogram, confusion matrix, training curves."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

from tsexplain.plot._axes import figure_of
from tsexplain.plot._text import plain, plain_all

__all__ = ["plot_class_histogram", "plot_confusion_matrix", "plot_training_curves"]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return figure_of(ax), ax


def plot_class_histogram(
    y: np.ndarray,
    classes: Sequence[str],
    *,
    title: str | None = "Cases per class",
    ax: Axes | None = None,
) -> Figure:
    """Bar chart of cases per class, with counts on the bars (class names and title drawn as
    plain text)."""
    fig, ax = _axes(ax, (5, 3.2))
    counts = np.bincount(np.asarray(y), minlength=len(classes))
    bars = ax.bar(range(len(classes)), counts, color="tab:blue")
    ax.bar_label(bars)
    ax.margins(y=0.12)  # room for the count above the tallest bar
    ax.set_xticks(range(len(classes)), plain_all(classes))
    ax.set_ylabel("cases")
    if title:
        ax.set_title(plain(title))
    return fig


def plot_confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[str],
    *,
    normalize: str | None = None,
    title: str | None = "Confusion matrix",
    ax: Axes | None = None,
) -> Figure:
    """Confusion matrix (rows: true class, columns: predicted); ``normalize`` as scikit-learn's
    (``None``, ``"true"``, ``"pred"``, ``"all"``). Class names and title are drawn as plain
    text."""
    fig, ax = _axes(ax, (4.2, 3.8))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(range(len(classes))),
        display_labels=plain_all(classes),
        normalize=normalize,
        ax=ax,
        colorbar=False,
        cmap="Blues",
    )
    if title:
        ax.set_title(plain(title))
    return fig


def plot_training_curves(
    history: Sequence[dict[str, float]], *, ax: Axes | Sequence[Axes] | None = None
) -> Figure:
    """Loss and accuracy per epoch, training and validation; an ensemble's members (rows with
    a ``member`` key) each get their own lines."""
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    else:
        axes = list(ax) if not isinstance(ax, Axes) else [ax]
        if len(axes) != 2:
            raise ValueError("plot_training_curves needs two axes (loss, accuracy)")
        fig = figure_of(axes[0])
    runs: dict[int, list[dict[str, float]]] = {}
    for h in history:
        runs.setdefault(int(h.get("member", 0)), []).append(h)
    style = "o" if len(history) <= 60 else ""  # markers only while they stay apart
    for axc, key in zip(axes, ("loss", "accuracy"), strict=True):
        for i, (member, rows) in enumerate(runs.items()):
            epochs = [h["epoch"] for h in rows]
            tag = f" {member + 1}" if len(runs) > 1 else ""
            colour = f"C{i % 10}"
            axc.plot(
                epochs, [h[key] for h in rows], style + "-", color=colour, label=f"train{tag}", ms=3
            )
            if f"val_{key}" in rows[0]:
                axc.plot(
                    epochs,
                    [h[f"val_{key}"] for h in rows],
                    style + "--",
                    color=colour,
                    label=f"validation{tag}",
                    ms=3,
                    alpha=0.8,
                )
        losses = [h["loss"] for h in history]
        if key == "loss" and losses and min(losses) > 0 and max(losses) > 30 * min(losses):
            axc.set_yscale("log")  # long runs fall by orders of magnitude
        axc.xaxis.get_major_locator().set_params(integer=True)
        axc.set_xlabel("epoch")
        axc.set_ylabel(key)
        if history:
            axc.legend(frameon=False)
    return fig
