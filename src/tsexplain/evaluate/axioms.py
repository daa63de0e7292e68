"""Axioms: completeness of path attribution methods.

Integrated Gradients and the other path methods satisfy *completeness* (M. Sundararajan,
A. Taly and Q. Yan, "Axiomatic attribution for deep networks", ICML 2017): the attributions of
a case add up to the change of the explained logit between the baseline ``x'`` and the input::

    sum_{c,t} a[c, t] = f_y(x) - f_y(x')

The completeness gap measures how far an implementation (with its finite number of path steps)
is from it, relative to the size of the change::

    gap = | sum a - (f_y(x) - f_y(x')) | / | f_y(x) - f_y(x') |

0 is exact; a few percent is typical of a Riemann sum with tens of steps. A case whose logit does
not change along the path (``|f_y(x) - f_y(x')|`` below ``1e-6``) is undefined (NaN); cases whose
logit changes only a little can have large relative gaps and dominate a class mean, so read the
value beside its interval.
"""

from __future__ import annotations

import numpy as np

from tsexplain.series import ModelAdapter

__all__ = ["CAPTUM_PATH_METHODS", "completeness_gap"]

#: Captum's path methods (tsexplain's own declare ``path_method = True``).
CAPTUM_PATH_METHODS = frozenset({"captum:IntegratedGradients", "captum:LayerIntegratedGradients"})


def completeness_gap(
    predictor: ModelAdapter,
    X: np.ndarray,
    attributions: np.ndarray,
    target: np.ndarray,
    baseline: np.ndarray,
    lengths: np.ndarray,
    padding: str,
) -> np.ndarray:
    """Relative completeness gap per case.

    Parameters
    ----------
    predictor : ModelAdapter
        Gives the model's logits (a ``torch.nn.Module`` is needed).
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
        Zero on padding (as every tsexplain method returns them).
    target : ndarray of shape (n_cases,)
        The explained class.
    baseline : ndarray broadcastable to X
        The path's starting point ``x'`` used by the method.
    lengths, padding
        Real steps per case and the pad side.

    Returns
    -------
    ndarray of shape (n_cases,)
    """
    base = np.array(np.broadcast_to(baseline, X.shape), dtype=np.float32)
    rows = np.arange(len(X))
    delta = (
        predictor.logits(X, lengths, padding)[rows, target]
        - predictor.logits(base, lengths, padding)[rows, target]
    )
    total = attributions.astype(np.float64).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(delta) > 1e-6, np.abs(total - delta) / np.abs(delta), np.nan)
