"""User strings on a web page: escaped for HTML text, attributes and embedded JSON.

Class, channel, file, method and data set names come from the user and may hold anything,
``<img src=x onerror=alert(1)>`` and ``</script>`` included. The report puts them in three
places, each with its own rule:

- HTML text and quoted attribute values: :func:`html_text` (``& < > " '`` and the line and
  paragraph separators as character references);
- a ``<script type="application/json">`` block: :func:`script_json`, JSON in which ``<``,
  ``>`` and ``&`` are written as ``\\u003c``-style escapes, so that no ``</script>`` or
  ``<!--`` can end or bend the block, and U+2028/U+2029 as ``\\u2028``/``\\u2029``;
- the page's script reads that JSON and builds the DOM with ``textContent`` only, and passes
  strings to Plotly (which reads a few HTML tags and entities in its labels) through its
  ``plotlyText`` helper.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

__all__ = ["html_text", "script_json"]

_SCRIPT_SAFE = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def html_text(value: object) -> str:
    """``value`` as text for HTML content or a quoted attribute value (U+2028 and U+2029,
    harmless there, are written as references too, so that the file holds them nowhere).

    Examples
    --------
    >>> html_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> html_text('a "b" & \\'c\\'')
    'a &quot;b&quot; &amp; &#x27;c&#x27;'
    """
    text = html.escape(str(value), quote=True)
    return text.replace("\u2028", "&#x2028;").replace("\u2029", "&#x2029;")


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def script_json(value: Any) -> str:
    """``value`` as JSON that can stand inside a ``<script>`` element.

    Non-finite floats become ``null``. ``<``, ``>``, ``&``, U+2028 and U+2029 are written as
    ``\\uXXXX`` escapes (valid JSON that decodes to the same strings), so the text holds no
    ``</script>``, no ``<!--`` and no line separator that older JavaScript parsers reject.

    Examples
    --------
    >>> script_json({"class": "</script><!--"})
    '{"class":"\\\\u003c/script\\\\u003e\\\\u003c!--"}'
    >>> json.loads(script_json(["\\u2028", float("nan")]))
    ['\\u2028', None]
    """
    text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_SAFE)
