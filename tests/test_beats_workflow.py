"""The ECG beat workflow end to end: a WFDB record with beat annotations, beats cut around
each annotation, a beat classifier trained on them, and Grad-CAM on the beats it explains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

wfdb = pytest.importorskip("wfdb")

import tsexplain as tx  # noqa: E402

FS = 360


def _beat(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One 0.7 s beat, R peak at 0.25 s: a normal beat (P wave, narrow QRS, T wave) or a
    ventricular one (no P wave, wide tall QRS, inverted T)."""
    t = (np.arange(round(0.7 * FS)) - round(0.25 * FS)) / FS  # seconds from the R peak
    g = lambda mu, sd, a: a * np.exp(-0.5 * ((t - mu) / sd) ** 2)  # noqa: E731
    if kind == "N":
        return g(-0.16, 0.02, 0.15) + g(0.0, 0.010, 1.0) + g(0.25, 0.04, 0.3)
    return g(0.0, 0.035, 1.6) - g(0.03, 0.03, 0.5) - g(0.30, 0.05, 0.4) * rng.uniform(0.8, 1.2)


def write_record(folder: Path, name: str, n_beats: int, seed: int) -> list[str]:
    """A one-lead record of ``n_beats`` beats (a third ventricular) with 'atr' annotations."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["N", "N", "V"], size=n_beats).tolist()
    spacing = round(0.8 * FS)
    signal = np.zeros(spacing * (n_beats + 2))
    samples = []
    for k, kind in enumerate(kinds):
        r = spacing * (k + 1) + int(rng.integers(-20, 20))
        beat = _beat(kind, rng)
        start = r - round(0.25 * FS)
        signal[start : start + beat.size] += beat
        samples.append(r)
    signal += 0.03 * rng.normal(size=signal.size) + 0.1 * np.sin(np.arange(signal.size) / 400)
    wfdb.wrsamp(
        name,
        fs=FS,
        units=["mV"],
        sig_name=["MLII"],
        p_signal=signal[:, None],
        fmt=["16"],
        write_dir=str(folder),
    )
    wfdb.wrann(name, "atr", np.array(samples), symbol=kinds, write_dir=str(folder))
    return kinds


def test_beats_from_a_record_train_a_beat_classifier_that_looks_at_the_qrs(tmp_path: Path):
    write_record(tmp_path, "train", 240, seed=0)
    kinds = write_record(tmp_path, "test", 60, seed=1)
    train = tx.data.load(tmp_path / "train.hea", before=0.25, after=0.45)
    test = tx.data.read_wfdb_beats(tmp_path / "test", classes=train.classes)
    assert train.classes == ("N", "V") and test.n_cases == len(kinds)
    assert [test.classes[k] for k in test.y] == kinds
    assert test.case_info["beat_record"].tolist() == ["test"] * len(kinds)

    model = tx.models.build("beat_cnn", 1, 2, seed=0, filters=8, dilations=(1, 2, 4))
    tx.fit(
        model, train, epochs=4, batch_size=16, lr=3e-3, sampling="balanced", seed=0, progress=False
    )
    report = tx.classification_report(test.y, tx.predict(model, test), test.classes)
    assert report["accuracy"] >= 0.95, report

    # Between the waves the record holds only noise and a slow baseline wander, so a faithful
    # explanation puts its mass on the waves (P, QRS, T: where the noise-free beat exceeds a
    # tenth of the R peak). Ventricular evidence is local (the wide QRS and inverted T);
    # normal-beat evidence is partly the absence of those, so it is less concentrated.
    rng = np.random.default_rng(0)
    for method in ("gradcam", "integrated_gradients"):
        ex = tx.explain(model, test, method=method, target="true")
        for c, kind in enumerate(test.classes):
            waves = np.abs(_beat(kind, rng)) > 0.1
            a = np.abs(ex.attributions[test.y == c, 0])
            share = a[:, waves].sum() / a.sum()
            factor = 1.8 if kind == "V" else 1.2
            assert share > factor * waves.mean(), (method, kind, share, waves.mean())
