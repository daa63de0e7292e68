"""Explanation at data-set scale: streamed from chunked sources into a resumable Zarr store,
in one process or on a Dask cluster (:func:`explain_to_store`), and the quality of those explanations measured the same way
(:func:`evaluate_store`)."""

from tsexplain.scale.evaluate import evaluate_store
from tsexplain.scale.job import StoreRun, explain_to_store
from tsexplain.scale.source import Source, open_source

__all__ = ["Source", "StoreRun", "evaluate_store", "explain_to_store", "open_source"]
