"""A section of the report page, and the small markup helpers that sections share.

Markup built here is trusted: every user string goes through
:func:`~tsexplain.report.escape.html_text` on its way in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tsexplain.report.escape import html_text

__all__ = ["Section", "number", "quoted_names", "table"]


@dataclass(frozen=True)
class Section:
    """One part of the page.

    Attributes
    ----------
    key : str
        The section's element id and the key of its data in the page's JSON.
    title : str
        Heading (not user text).
    html : str
        Trusted markup: every user string in it is already escaped.
    data : object
        JSON-ready data for the page's script (``None`` when the section needs none).
    omitted : str or None
        Why the section is not in this report; ``html`` and ``data`` are then empty.
    """

    key: str
    title: str
    html: str = ""
    data: Any = None
    omitted: str | None = None


# ---------------------------------------------------------------------------- markup helpers
def table(header: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """A table from cells that are already markup (escape user text before).

    >>> table(["a"], [["1"]], "numbers")
    '<table class="numbers"><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
    """
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def number(value: float | None, digits: int = 3) -> str:
    """A number for a table: fixed decimals, small ones in scientific notation, a dash for
    none.

    >>> number(0.12345), number(0.00012), number(None)
    ('0.123', '1.20e-04', '&ndash;')
    """
    if value is None or not math.isfinite(float(value)):
        return "&ndash;"
    v = float(value)
    if v != 0 and abs(v) < 10**-digits:
        return f"{v:.2e}"
    return f"{v:.{digits}f}"


def quoted_names(names: Sequence[str], limit: int = 12) -> str:
    """User names as escaped, quoted text, at most ``limit`` of them.

    >>> quoted_names(["a<b", "c"])
    '<q>a&lt;b</q>, <q>c</q>'
    """
    shown = ", ".join(f"<q>{html_text(n)}</q>" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
