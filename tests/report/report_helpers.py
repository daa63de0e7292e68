"""Helpers of the report tests: the names that are markup, reading a report's JSON block,
and a report opened in the browser with what it logged, requested and popped up."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

import tsexplain as tx

CHROMIUM = Path("/usr/bin/chromium")

EVIL_CLASS = "<img src=x onerror=alert(1)>"
EVIL_CHANNEL = "</script><script>alert(2)</script>"
EVIL_NAME = "<!--<svg onload=alert(3)>\u2028\u2029"


def page_data(path: Path) -> dict[str, Any]:
    """The JSON block of a report."""
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="tsx-data">(.*?)</script>', text, re.S)
    assert found is not None
    return json.loads(found.group(1))


class Page:
    """A report opened in the browser, with everything it logged and requested."""

    def __init__(self, browser: Any, path: Path, ready: str = "body[data-ready=true]") -> None:
        self.page = browser.new_page(viewport={"width": 1300, "height": 900})
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_selector(ready, timeout=30_000)

    def eval(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def close(self) -> None:
        self.page.close()


def cell_cases(ds: tx.data.Dataset, model: Any, true: int, pred: int) -> list[int]:
    """The case numbers of one confusion-matrix cell, computed here."""
    predicted = tx.predict(model, tx.prepare_for(model, ds))
    y = tx.prepare_for(model, ds).y
    return np.flatnonzero((y == true) & (predicted == pred)).tolist()
