"""One self-contained HTML page from the sections: styles, Plotly and the page's script
inlined, data in one JSON block, nothing fetched from anywhere.

The page declares a Content-Security-Policy that allows no network source at all (no
``connect-src``, no remote ``script-src``/``img-src``/``font-src``), so even a mistake in a
library could not make it reach a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from tsexplain.report.escape import html_text, script_json
from tsexplain.report.sections import Section

__all__ = ["CONTENT_SECURITY_POLICY", "render_page"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)


@cache
def _asset(name: str) -> str:
    return (files("tsexplain.report") / "assets" / name).read_text(encoding="utf-8")


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    if "</script" in js.lower():  # pragma: no cover - would break the page; never seen
        raise RuntimeError("this plotly.js build holds '</script' and cannot be inlined")
    return js


def render_page(
    title: str,
    subtitle: str,
    sections: Sequence[Section],
    shared: dict[str, Any],
) -> str:
    """The page's HTML.

    Parameters
    ----------
    title, subtitle : str
        Shown at the top (user text: escaped here).
    sections : list of Section
        In page order; those with ``omitted`` set are listed, with their reason, at the end.
    shared : dict
        Data every view reads (class and channel names, case labels), merged with each
        section's data under its key into the page's one JSON block.

    Returns
    -------
    str
        A complete HTML document.
    """
    shown = [s for s in sections if s.omitted is None]
    left_out = [s for s in sections if s.omitted is not None]
    data = dict(shared)
    data.update({s.key: s.data for s in shown if s.data is not None})
    nav = "".join(f'<a href="#{s.key}">{html_text(s.title)}</a>' for s in shown)
    if left_out:
        nav += '<a href="#not-in-report">not in this report</a>'
    body = "".join(
        f'<section id="{s.key}"><h2>{html_text(s.title)}</h2>{s.html}</section>' for s in shown
    )
    if left_out:
        items = "".join(
            f"<li><b>{html_text(s.title)}</b>: {html_text(s.omitted)}</li>" for s in left_out
        )
        body += (
            '<section id="not-in-report"><h2>Not in this report</h2>'
            f'<ul class="omitted">{items}</ul></section>'
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="tsexplain">'
        f"<title>{html_text(title)}</title>"
        f"<style>{_asset('report.css')}</style></head>\n"
        f'<body><header><h1>{html_text(title)}</h1><p class="hint">{html_text(subtitle)}</p>'
        f"<nav>{nav}</nav></header>\n<main>{body}</main>\n"
        f'<script type="application/json" id="tsx-data">{script_json(data)}</script>\n'
        f"<script>{_plotly_js()}</script>\n"
        f"<script>{_asset('report.js')}</script>\n"
        "</body></html>\n"
    )
