"""Distances between series over the steps real in both, and nearest neighbours.

The realism of a class prototype is judged against the class's own members: how far is the
prototype from its nearest member, compared with how far each member is from *its* nearest
other member? Both use one distance, the root mean square difference over the cells real in
both series (channels standardised by the data's spread, so no channel dominates by its
units), which does not depend on how long the series are. Series are compared in the
padded layout, i.e. lined up as their padding lines them up.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nearest_neighbour_distances", "rms_distances"]


def rms_distances(
    a: np.ndarray,
    real_a: np.ndarray,
    b: np.ndarray,
    real_b: np.ndarray,
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """Root mean square differences ``(n, m)`` between every series of ``a`` and of ``b``.

    Parameters
    ----------
    a : ndarray of shape (n, C, T)
    real_a : ndarray of bool, shape (n, T)
        Real steps of ``a`` (values elsewhere are ignored).
    b : ndarray of shape (m, C, T)
    real_b : ndarray of bool, shape (m, T)
    scale : ndarray of shape (C,), optional
        Each channel is divided by its scale first (e.g. the data's standard deviation).

    Returns
    -------
    ndarray of shape (n, m)
        ``sqrt(mean over shared real cells of (a - b)^2)``; ``inf`` for a pair that shares no
        real step.

    Examples
    --------
    >>> a = np.array([[[0.0, 1.0, 2.0]]])
    >>> b = np.array([[[0.0, 1.0, 5.0]], [[9.0, 3.0, 0.0]]])
    >>> real_b = np.array([[True, True, False], [False, True, True]])
    >>> rms_distances(a, np.ones((1, 3), bool), b, real_b)
    array([[0., 2.]])
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if scale is not None:
        s = np.where(np.asarray(scale) > 0, np.asarray(scale, dtype=np.float64), 1.0)[None, :, None]
        a, b = a / s, b / s
    ma, mb = real_a.astype(np.float64), real_b.astype(np.float64)
    a = a * ma[:, None, :]
    b = b * mb[:, None, :]
    c = a.shape[1]
    sq_a = (a**2).sum(axis=1)  # (n, T)
    sq_b = (b**2).sum(axis=1)
    # sum over shared cells of a^2 - 2ab + b^2, as matrix products
    total = sq_a @ mb.T + ma @ sq_b.T - 2.0 * a.reshape(len(a), -1) @ b.reshape(len(b), -1).T
    count = c * (ma @ mb.T)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.sqrt(np.maximum(total, 0.0) / count)
    return np.where(count > 0, out, np.inf)


def nearest_neighbour_distances(
    x: np.ndarray, real: np.ndarray, scale: np.ndarray | None = None, block: int = 512
) -> np.ndarray:
    """Each series' distance to its nearest *other* series of the same set, ``(n,)``.

    Distances as :func:`rms_distances`, computed ``block`` rows at a time; ``inf`` for a set
    of one.

    Examples
    --------
    >>> x = np.array([[[0.0, 0.0]], [[1.0, 1.0]], [[3.0, 3.0]]])
    >>> nearest_neighbour_distances(x, np.ones((3, 2), bool))
    array([1., 1., 2.])
    """
    n = len(x)
    out = np.empty(n)
    for start in range(0, n, block):
        stop = min(start + block, n)
        d = rms_distances(x[start:stop], real[start:stop], x, real, scale)
        d[np.arange(stop - start), np.arange(start, stop)] = np.inf
        out[start:stop] = d.min(axis=1)
    return out
