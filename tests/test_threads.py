"""PyTorch's intra-op threads are limited to the free cores while tsexplain computes, never
raised, and restored afterwards (see ``benchmarks/threads.py`` for what it saves)."""

from __future__ import annotations

import os

import pytest
import torch

import tsexplain as tx
from tsexplain import _runtime


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def test_free_cores_counts_idle_cores_of_this_process() -> None:
    free = _runtime.free_cores()
    if free is None:
        pytest.skip("the system does not report per-core counters")
    assert 1 <= free <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("free", [1, 2, None])
def test_the_engine_runs_on_the_free_cores_and_restores_the_count(monkeypatch, threads, free):
    torch.set_num_threads(2)
    seen = []
    real = torch.autograd.grad

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(_runtime, "free_cores", lambda: free)
    monkeypatch.setattr(torch.autograd, "grad", spy)
    ds = tx.data.make_sensor_failure(4, seed=0)
    model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0, filters=(4, 8))
    tx.explain(model, ds, method="saliency")
    assert seen and set(seen) == {2 if free is None else free}
    assert torch.get_num_threads() == 2


def test_a_lower_count_the_caller_chose_is_kept(monkeypatch, threads) -> None:
    torch.set_num_threads(1)
    monkeypatch.setattr(_runtime, "free_cores", lambda: 2)

    @_runtime.fair_threads
    def inside() -> int:
        return torch.get_num_threads()

    assert inside() == 1 and torch.get_num_threads() == 1


def test_the_count_is_restored_when_the_work_fails(monkeypatch, threads) -> None:
    torch.set_num_threads(2)
    monkeypatch.setattr(_runtime, "free_cores", lambda: 1)

    @_runtime.fair_threads
    def failing() -> None:
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing()
    assert torch.get_num_threads() == 2
