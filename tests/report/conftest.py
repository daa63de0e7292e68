"""Small seeded data, a tiny trained model, reports built from them, and a headless Chromium
(Debian's, at /usr/bin/chromium) driven by Playwright; browser tests skip when either is
missing."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tsexplain as tx
from tsexplain.report import build_report
from tsexplain.summarize import class_prototypes

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_helpers import CHROMIUM, EVIL_CHANNEL, EVIL_CLASS, EVIL_NAME, Page


def _fit(ds: tx.data.Dataset, seed: int = 0) -> Any:
    model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, filters=(4, 8), seed=seed)
    result = tx.fit(model, ds, epochs=8, batch_size=8, lr=1e-2, seed=seed, progress=False)
    return model, result


@pytest.fixture(scope="session")
def report_data() -> tx.data.Dataset:
    """60 three-channel sensor-failure series with a mask, 30% failures."""
    return tx.data.make_sensor_failure(60, failure_fraction=0.3, seed=0)


@pytest.fixture(scope="session")
def report_model(report_data: tx.data.Dataset) -> tuple[Any, Any]:
    """The tiny causal CNN after eight epochs on ``report_data``, and its FitResult."""
    return _fit(report_data)


@pytest.fixture(scope="session")
def evil_data(report_data: tx.data.Dataset) -> tx.data.Dataset:
    """``report_data`` with class, channel and data set names that are markup."""
    return tx.data.Dataset(
        report_data.X,
        report_data.y,
        lengths=report_data.lengths,
        padding=report_data.padding,
        classes=["Normal & <b>fine</b>", EVIL_CLASS],
        channel_names=[EVIL_CHANNEL, "ch'1\"", "ch\u20282"],
        mask=report_data.mask,
        name=EVIL_NAME,
    )


@pytest.fixture(scope="session")
def report_file(
    tmp_path_factory: pytest.TempPathFactory, report_data: tx.data.Dataset, report_model: Any
) -> Path:
    model, result = report_model
    out = tmp_path_factory.mktemp("report") / "report.html"
    protos = class_prototypes(model, report_data, n_steps=20)
    return build_report(
        model, report_data, out, methods=["gradcam", "saliency"], history=result,
        prototypes=protos,
    )  # fmt: skip


@pytest.fixture(scope="session")
def evil_file(
    tmp_path_factory: pytest.TempPathFactory, evil_data: tx.data.Dataset, report_model: Any
) -> Path:
    model = copy.deepcopy(report_model[0])  # as if trained on the same cases under evil names
    model.meta.update(classes=list(evil_data.classes), channel_names=list(evil_data.channel_names))
    out = tmp_path_factory.mktemp("evil") / "report.html"
    protos = class_prototypes(model, evil_data, n_steps=5)
    return build_report(model, evil_data, out, methods=["gradcam"], prototypes=protos)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium; the test is skipped (with the reason) where it cannot run."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    pages: list[Page] = []

    def _open(path: Path, ready: str = "body[data-ready=true]") -> Page:
        pages.append(Page(browser, path, ready))
        return pages[-1]

    yield _open
    for p in pages:
        p.close()
