"""File-format readers behind :func:`tsexplain.data.load`, one module per format family.

Importing this package registers every reader with :func:`tsexplain.data.register_reader`:

========================  =========================================================
suffix                    reader
========================  =========================================================
``.tsv``, ``.txt``        :func:`read_ucr` (UCR archive, label first)
``.ts``                   :func:`read_ts` (sktime / aeon, with header checks)
``.arff``                 :func:`read_arff` (univariate or relational multivariate)
``.csv``                  :func:`read_csv` (wide, long, MIT-BIH heartbeat layout)
``.parquet``, ``.pq``     :func:`read_parquet` (wide or long)
``.npy``                  :func:`read_npy` (labels beside or in a column)
``.hea``                  :func:`read_wfdb_beats` (ECG beats of WFDB records)
========================  =========================================================

All readers share one missing-value policy (see :mod:`tsexplain.data.readers._common`):
missing values at the end of a series mean a shorter series (``lengths``, right padding);
inside a series they are an error naming the file and line unless ``missing="interpolate"``
or ``missing="drop"`` is passed.
"""

from tsexplain.data.readers._common import MISSING_POLICIES
from tsexplain.data.readers.arff import read_arff
from tsexplain.data.readers.arrays import read_npy
from tsexplain.data.readers.frame import from_frame
from tsexplain.data.readers.tabular import read_csv, read_parquet
from tsexplain.data.readers.ts import read_ts
from tsexplain.data.readers.ucr import read_ucr
from tsexplain.data.readers.wfdb_beats import AAMI_CLASSES, AAMI_GROUPS, read_wfdb_beats

__all__ = [
    "AAMI_CLASSES",
    "AAMI_GROUPS",
    "MISSING_POLICIES",
    "from_frame",
    "read_arff",
    "read_csv",
    "read_npy",
    "read_parquet",
    "read_ts",
    "read_ucr",
    "read_wfdb_beats",
]
