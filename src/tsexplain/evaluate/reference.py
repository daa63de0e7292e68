"""The random-attribution reference: random contiguous blocks.

A metric value means little on its own; beside it, every table row carries the same metric for
a map that knows nothing about the model. That map is piecewise constant: each case's real steps
are cut into contiguous blocks of ``block`` steps, and each block (per channel for a
channel-time map, shared by all channels for a time map) gets an independent uniform random
value. Ranking such a map removes random contiguous blocks, of the size a window-wise deletion
removes, rather than scattered single steps (which a model, and linear interpolation, would
barely notice) -- the fair comparison for methods whose maps are smooth in time.
"""

from __future__ import annotations

import numpy as np

from tsexplain.series import real_slice

__all__ = ["random_blocks"]


def random_blocks(
    shape: tuple[int, int, int],
    lengths: np.ndarray,
    padding: str,
    block: int,
    rng: np.random.Generator,
    resolution: str = "channel-time",
) -> np.ndarray:
    """Random piecewise-constant attributions, zero on padding.

    Parameters
    ----------
    shape : (n_cases, n_channels, n_timepoints)
        Shape of the attributions.
    lengths : ndarray of shape (n_cases,)
        Real steps per case; blocks start at each case's first real step.
    padding : {"left", "right"}
        Where the pad sits.
    block : int
        Steps per block (the last block of a case may be shorter).
    rng : numpy.random.Generator
        The source of randomness.
    resolution : {"time", "channel-time"}
        ``"time"`` shares each block's value across channels.

    Returns
    -------
    ndarray of shape (n_cases, n_channels, n_timepoints), float32, values in ``(0, 1)``.

    Examples
    --------
    >>> a = random_blocks((1, 1, 6), np.array([6]), "right", 3, np.random.default_rng(0))
    >>> bool(a[0, 0, 0] == a[0, 0, 2] != a[0, 0, 3])
    True
    """
    _, c, t = shape
    block = max(1, int(block))
    out = np.zeros(shape, dtype=np.float32)
    g = 1 if resolution == "time" else c
    for i, length in enumerate(lengths):
        length = int(length)
        n_blocks = -(-length // block)
        values = rng.uniform(0.0, 1.0, size=(g, n_blocks)).astype(np.float32)
        # Keep values strictly positive so the map never ties with padding zeros.
        values = np.maximum(values, np.float32(1e-6))
        steps = np.repeat(values, block, axis=1)[:, :length]
        out[i][:, real_slice(length, t, padding)] = steps
    return out
