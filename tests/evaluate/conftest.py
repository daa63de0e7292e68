"""Fixtures for the evaluation tests: a small padded data set with ground truth and a tiny
causal CNN trained on it (seeded, CPU, about two seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

import tsexplain as tx


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread, and the machine is shared; restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def masked_ds() -> tx.data.Dataset:
    """60 three-channel series of 40-64 steps, left padded, 30% with a failure patch."""
    return tx.data.make_sensor_failure(
        60, min_length=40, max_length=64, failure_fraction=0.3, padding="left", seed=3
    )


@pytest.fixture(scope="session")
def trained(masked_ds: tx.data.Dataset) -> tx.models.SeriesClassifier:
    """A two-block causal CNN (8 filters each) that has learnt to spot the failures."""
    model = tx.models.build(
        "causal_cnn", masked_ds.n_channels, masked_ds.n_classes, filters=(8, 8), seed=0
    )
    tx.fit(model, masked_ds, epochs=15, batch_size=16, lr=1e-2, seed=0, progress=False)
    return model
