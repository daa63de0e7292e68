"""Fixtures of the explain test suite; makes ``explain_helpers`` importable for its modules
(pytest runs with ``--import-mode=importlib``, which puts no test folder on ``sys.path``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def series() -> np.ndarray:
    """Three random two-channel series of 24 steps."""
    return np.random.default_rng(7).normal(size=(3, 2, 24)).astype(np.float32)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one intra-op thread is fastest and leaves the shared cores alone."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
