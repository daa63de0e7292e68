"""Data sets, loaders, synthetic generators, padding and splits.

Shapes follow one vocabulary: ``X`` is ``(n_cases, n_channels, n_timepoints)`` float32.
"""

from tsexplain.data.dataset import Dataset
from tsexplain.data.io import encode_labels, load, readers, register_reader
from tsexplain.data.padding import pad_series, real_mask, repad, unpad
from tsexplain.data.synthetic import make_sensor_failure

__all__ = [
    "Dataset",
    "encode_labels",
    "load",
    "make_sensor_failure",
    "pad_series",
    "readers",
    "real_mask",
    "register_reader",
    "repad",
    "unpad",
]
