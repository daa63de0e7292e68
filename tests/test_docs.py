"""The documentation's checks: a docstring's Sphinx cross-reference to nothing is reported with
its file and object (``mkdocs build --strict`` then fails), one that resolves is rendered as
code; the pages made from the registries cover every method and metric."""

from __future__ import annotations

import importlib.util
import logging
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
griffe = pytest.importorskip("griffe")


def _roles():
    spec = importlib.util.spec_from_file_location("griffe_roles", ROOT / "docs" / "griffe_roles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_broken_cross_reference_is_reported_with_its_file(tmp_path, caplog, monkeypatch):
    roles = _roles()
    package = tmp_path / "toypkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            '''
            """Toy."""


            def good():
                """See :func:`bad` and :func:`~toypkg.good`."""


            def bad():
                """See :func:`nowhere` and :class:`toypkg.Missing`."""
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING):
        loaded = griffe.load(
            "toypkg",
            search_paths=[str(tmp_path)],
            extensions=griffe.load_extensions(roles.SphinxRoles()),
        )
    messages = [r.getMessage() for r in caplog.records]
    broken = [m for m in messages if "broken cross-reference" in m]
    assert len(broken) == 2, messages
    assert all("toypkg/__init__.py" in m and "toypkg.bad" in m for m in broken)
    assert "'nowhere'" in broken[0] and "'toypkg.Missing'" in broken[1]
    assert loaded["good"].docstring.value == "See `bad` and `good`."
    sys.modules.pop("toypkg", None)


def test_relative_and_titled_references_resolve():
    roles = _roles()
    assert roles.resolves("Dataset", "tsexplain.data.dataset")
    assert roles.resolves(".align", "tsexplain.summarize")
    assert roles.resolves("tsexplain.summarize.align.Aligned.real", "tsexplain")
    assert not roles.resolves("tsexplain.data.nothing_here", "tsexplain")
