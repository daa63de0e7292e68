"""Shared fixtures: small seeded data sets and a trained demo model (CPU, offline)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import tsexplain as tx

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def small_ds() -> tx.data.Dataset:
    """60 three-channel series of lengths 40-64, left padded, 20% failures."""
    return tx.data.make_sensor_failure(
        60, min_length=40, max_length=64, failure_fraction=0.2, padding="left", seed=3
    )


@pytest.fixture(scope="session")
def demo_run() -> dict:
    """The demo's model trained with the demo's settings, with its validation split."""
    from tsexplain.demo import DemoConfig

    cfg = DemoConfig()
    ds = tx.data.make_sensor_failure(cfg.n_cases, padding=cfg.padding, seed=cfg.seed)
    train, val = ds.split(1 - cfg.val_fraction, seed=cfg.seed)
    model = tx.models.build(cfg.model, ds.n_channels, ds.n_classes, seed=cfg.seed)
    result = tx.fit(
        model,
        train,
        val,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        seed=cfg.seed,
        progress=False,
    )
    return {"model": model, "train": train, "val": val, "result": result}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def job_files(tmp_path_factory):
    """A factory of the files a command-line job reads: ``make(name, n_cases, ...)`` saves a
    sensor-failure data file, a small untrained causal CNN that knows the classes and channels,
    and its saliency maps, in a fresh folder; returns their paths (and the folder, ``root``)."""

    def make(
        name: str, n_cases: int, *, min_length: int = 30, max_length: int = 30, seed: int = 0
    ) -> dict[str, Path]:
        root = tmp_path_factory.mktemp(name)
        ds = tx.data.make_sensor_failure(
            n_cases, min_length=min_length, max_length=max_length, failure_fraction=0.25, seed=seed
        )
        data = ds.save(root / "d.npz")
        model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0, filters=(4, 8))
        model.meta.update(classes=list(ds.classes), channel_names=list(ds.channel_names))
        tx.save_model(model, root / "model")
        ex = tx.explain(tx.load_model(root / "model"), ds, method="saliency").save(root / "ex.npz")
        return {"root": root, "data": data, "model": root / "model", "ex": ex}

    return make
