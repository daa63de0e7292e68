"""ECG beats from WFDB records (PhysioNet: MIT-BIH, INCART, ...) and their beat annotations.

For every annotated beat a window of ``before`` seconds before and ``after`` seconds after
the annotation's sample is cut from the record; the beat is labelled by its annotation
symbol, or grouped into the five AAMI EC57 classes. Non-beat annotations (rhythm changes,
noise, comments) are skipped, as are beats whose window runs past the record's ends. The
record and sample of every beat are kept in ``case_info["beat_record"]`` /
``case_info["beat_sample"]``.
Needs ``wfdb``: ``pip install tsexplain[ecg]``.

References
----------
ANSI/AAMI EC57:2012, "Testing and reporting performance results of cardiac rhythm and
ST segment measurement algorithms" (the N/S/V/F/Q grouping).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.data.readers._common import assemble, optional_import
from tsexplain.data.readers._registry import register_reader
from tsexplain.errors import TsExplainError, describe

__all__ = ["AAMI_CLASSES", "AAMI_GROUPS", "BEAT_SYMBOLS", "read_wfdb_beats"]

logger = logging.getLogger("tsexplain.data")

#: The AAMI classes in index order (also the Kaggle MIT-BIH CSV's labels 0-4).
AAMI_CLASSES = ("N", "S", "V", "F", "Q")
#: Beat annotation symbol -> AAMI class.
AAMI_GROUPS: dict[str, str] = {
    **dict.fromkeys(("N", "L", "R", "B", "e", "j", "n"), "N"),  # normal, bundle branch, escape
    **dict.fromkeys(("A", "a", "J", "S"), "S"),  # supraventricular ectopic
    **dict.fromkeys(("V", "E", "r"), "V"),  # ventricular ectopic
    "F": "F",  # fusion of ventricular and normal
    **dict.fromkeys(("/", "f", "Q", "?"), "Q"),  # paced, paced fusion, unclassifiable
}
#: The WFDB symbols that annotate a beat.
BEAT_SYMBOLS = frozenset(AAMI_GROUPS)


def _records(records: Any) -> list[Path]:
    """Record paths without suffix, from one record, a directory or a sequence of them."""
    items = [records] if isinstance(records, (str, os.PathLike)) else list(records)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(p.glob("*.hea"))
            if not found:
                raise TsExplainError(f"{p}: no WFDB records (.hea files) in this directory")
            out.extend(f.with_suffix("") for f in found)
        else:
            out.append(p.with_suffix("") if p.suffix.lower() in (".hea", ".dat") else p)
    if not out:
        raise TsExplainError("no WFDB records given")
    return out


def _read_one(wfdb: Any, base: Path, annotator: str) -> tuple[Any, Any]:
    if not base.with_suffix(".hea").is_file():
        raise TsExplainError(f"{base}.hea: no such WFDB header file")
    if not Path(f"{base}.{annotator}").is_file():
        raise TsExplainError(
            f"{base}.{annotator}: no annotation file; pass annotator= with the extension of "
            "the record's beat annotations (e.g. 'atr')"
        )
    try:
        record = wfdb.rdrecord(str(base))
        ann = wfdb.rdann(str(base), annotator)
    except Exception as exc:  # wfdb raises many kinds for damaged files
        raise TsExplainError(
            f"{base}: the WFDB record could not be read, perhaps truncated or damaged "
            f"({describe(exc)})"
        ) from None
    if record.p_signal is None:
        raise TsExplainError(f"{base}: the record has no signal")
    return record, ann


def read_wfdb_beats(
    records: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    annotator: str = "atr",
    before: float = 0.25,
    after: float = 0.45,
    channels: Sequence[str | int] | None = None,
    aami: bool = False,
    missing: str = "error",
    classes: Sequence[str] | None = None,
    znormalise: bool = False,
    name: str | None = None,
) -> Dataset:
    """Cut one window per annotated beat from WFDB records.

    Parameters
    ----------
    records : path-like or sequence of path-likes
        Records by name (``data/100``, with or without ``.hea``) or directories of records.
    annotator : str
        Extension of the annotation file (``"atr"`` for the reference annotations).
    before, after : float
        Seconds kept before and after each beat's sample; the window holds
        ``round(before * fs) + round(after * fs)`` samples, the beat at index
        ``round(before * fs)``.
    channels : sequence of str or int, optional
        Signals to keep, by name (e.g. ``["MLII"]``) or index; default all.
    aami : bool
        Label by AAMI class (N, S, V, F, Q, all five kept as classes) instead of by symbol.
    missing : {"error", "interpolate", "drop"}
        Policy for missing samples (NaN in the record) inside a window.
    classes : sequence of str, optional
        Class names in index order; beats with other labels are skipped.
    znormalise : bool
        Z-normalise every beat and channel.
    name : str, optional
        Data set name; default the record's name, or ``"wfdb"`` for several.

    Returns
    -------
    Dataset
        ``X`` float32 ``(n_beats, n_channels, window)`` in physical units, channel names from
        the records.

    Examples
    --------
    >>> ds = read_wfdb_beats("mitdb/100", aami=True, channels=["MLII"])  # doctest: +SKIP
    >>> ds.classes, ds.case_info["beat_sample"][:2]  # doctest: +SKIP
    (('N', 'S', 'V', 'F', 'Q'), array([370, 662]))
    """
    wfdb = optional_import("wfdb", "ecg", "reading WFDB records")
    if before < 0 or after <= 0:
        raise TsExplainError(f"the window needs before >= 0 and after > 0, got {before}, {after}")
    windows: list[np.ndarray] = []
    labels: list[str] = []
    beat_record: list[str] = []
    beat_sample: list[int] = []
    fs = None
    names: list[str] | None = None
    skipped = 0
    paths = _records(records)
    for base in paths:
        record, ann = _read_one(wfdb, base, annotator)
        sig_names = [str(s) for s in record.sig_name]
        if channels is None:
            idx = list(range(len(sig_names)))
        else:
            idx = []
            for ch in channels:
                if isinstance(ch, str) and ch not in sig_names:
                    raise TsExplainError(f"{base}: no signal {ch!r}; it has {sig_names}")
                if isinstance(ch, int) and not 0 <= ch < len(sig_names):
                    raise TsExplainError(f"{base}: no signal {ch}; it has {len(sig_names)}")
                idx.append(sig_names.index(ch) if isinstance(ch, str) else ch)
        kept = [sig_names[i] for i in idx]
        if names is None:
            names, fs = kept, float(record.fs)
        elif kept != names:
            raise TsExplainError(
                f"{base}: signals {kept} differ from the first record's {names}; pass channels= "
                "to pick the same signals from every record"
            )
        elif float(record.fs) != fs:
            raise TsExplainError(
                f"{base}: sampled at {record.fs} Hz, the first record at {fs} Hz; read records "
                "of one sampling rate together"
            )
        b, a = round(before * float(record.fs)), round(after * float(record.fs))
        signal = np.asarray(record.p_signal, dtype=np.float64)[:, idx]
        samples = np.asarray(ann.sample, dtype=np.int64)
        symbols = np.asarray(ann.symbol, dtype=object)
        wanted = np.array([s in BEAT_SYMBOLS for s in symbols], dtype=bool)
        beat_labels = np.array(
            [AAMI_GROUPS[s] if aami else s for s in symbols[wanted]], dtype=object
        )
        samples = samples[wanted]
        if classes is not None:
            keep = np.isin(beat_labels, list(classes))
            samples, beat_labels = samples[keep], beat_labels[keep]
        inside = (samples - b >= 0) & (samples + a <= signal.shape[0])
        skipped += int((~inside).sum())
        samples, beat_labels = samples[inside], beat_labels[inside]
        steps = samples[:, None] + np.arange(-b, a)[None, :]  # (n_beats, window)
        windows.append(signal[steps].transpose(0, 2, 1))  # (n_beats, channels, window)
        labels.extend(str(s) for s in beat_labels)
        beat_record.extend([base.name] * len(samples))
        beat_sample.extend(int(s) for s in samples)
        logger.info("%s: %d beats", base, len(samples))
    if not labels:
        raise TsExplainError(
            f"{paths[0] if len(paths) == 1 else 'the records'}: no annotated beats with a full "
            "window; check annotator=, classes= and the window"
        )
    if skipped:
        logger.info("skipped %d beat(s) whose window runs past a record's ends", skipped)
    if classes is None and aami:
        classes = AAMI_CLASSES
    return assemble(
        np.concatenate(windows),
        labels,
        path=paths[0],
        locate=lambda i: f"record {beat_record[i]}, beat at sample {beat_sample[i]}",
        fmt="wfdb",
        missing=missing,
        classes=classes,
        channel_names=names,
        name=name or (paths[0].name if len(paths) == 1 else "wfdb"),
        meta={
            "fs": fs,
            "before": round(before * (fs or 0)),
            "after": round(after * (fs or 0)),
            "annotator": annotator,
            "aami": aami,
            "records": [p.name for p in paths],
            "skipped_at_edges": skipped,
        },
        case_meta={"beat_record": beat_record, "beat_sample": beat_sample},
        znorm=znormalise,
    )


@register_reader(".hea")
def _read_hea(path: Path, **options: Any) -> Dataset:
    """``load("100.hea")``: the beats of one record (options of :func:`read_wfdb_beats`)."""
    return read_wfdb_beats(path, **options)
