"""Fingerprinted static URLs: the digest follows the file's bytes; only the current one is cached long."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.web.assets import IMMUTABLE, REVALIDATE, Assets


def test_digest_follows_the_bytes_and_only_the_current_one_is_immutable(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text("body{}", encoding="utf-8")
    first = Assets(tmp_path).url("a.css")
    assert first.startswith("/static/a.css?v=")
    scope = {"path": "/static/a.css", "query_string": first.split("?", 1)[1].encode()}
    assert Assets(tmp_path).cache_control(scope) == IMMUTABLE
    (tmp_path / "a.css").write_text("body{color:red}", encoding="utf-8")
    changed = Assets(tmp_path)
    assert changed.url("a.css") != first
    assert changed.cache_control(scope) == REVALIDATE  # an old digest is not cached for a year
    assert changed.cache_control({"path": "/static/a.css", "query_string": b""}) == REVALIDATE
    assert changed.cache_control({"path": "/static/nope.css", "query_string": b"v=x"}) == REVALIDATE
    with pytest.raises(KeyError):
        changed.url("nope.css")
