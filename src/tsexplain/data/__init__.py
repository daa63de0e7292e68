"""Data sets, loaders, synthetic generators, padding and splits.

Shapes follow one vocabulary: ``X`` is ``(n_cases, n_channels, n_timepoints)`` float32.
"""

from tsexplain.data.archive import fetch_archive, load_archive
from tsexplain.data.dataset import Dataset
from tsexplain.data.io import available_readers, encode_labels, load, register_reader
from tsexplain.data.normalise import (
    NORMALISATIONS,
    apply_normalisation,
    channel_statistics,
    normalisation_warnings,
    normalise,
    standardise,
)
from tsexplain.data.padding import pad_series, real_mask, repad, unpad
from tsexplain.data.preprocess import (
    balanced_sampler,
    class_weights,
    sampling_weights,
    znormalise,
)
from tsexplain.data.readers.wfdb_beats import AAMI_CLASSES, read_wfdb_beats
from tsexplain.data.suite import (
    SUITE,
    SuiteSet,
    make_freqshapes,
    make_lowvar,
    make_seqcomb_mv,
    make_seqcomb_uv,
    make_spike,
    make_state,
    make_suite,
    make_switch_feature,
    suite_names,
)
from tsexplain.data.synthetic import make_sensor_failure

__all__ = [
    "AAMI_CLASSES",
    "NORMALISATIONS",
    "SUITE",
    "Dataset",
    "SuiteSet",
    "apply_normalisation",
    "available_readers",
    "balanced_sampler",
    "channel_statistics",
    "class_weights",
    "encode_labels",
    "fetch_archive",
    "load",
    "load_archive",
    "make_freqshapes",
    "make_lowvar",
    "make_sensor_failure",
    "make_seqcomb_mv",
    "make_seqcomb_uv",
    "make_spike",
    "make_state",
    "make_suite",
    "make_switch_feature",
    "normalisation_warnings",
    "normalise",
    "pad_series",
    "read_wfdb_beats",
    "real_mask",
    "register_reader",
    "repad",
    "sampling_weights",
    "standardise",
    "suite_names",
    "unpad",
    "znormalise",
]
