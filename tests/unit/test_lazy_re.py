"""Patterns compiled on first use (functions/validate/lazy_re.py) answer as the compiled pattern would,
and the validator's modules compile none at import (the webhook's cold start, docs/cold-start.md)."""

from __future__ import annotations

import ast
import re

import pytest

from functions.validate import values
from functions.validate.lazy_re import LazyPattern
from tests.helpers.paths import ROOT

# The modules the webhook and `huizong validate` import whose patterns are compiled on first use.
LAZY_MODULES = (
    "functions/validate/values.py",
    "functions/validate/cells.py",
    "functions/validate/identity.py",
    "functions/services/intake/unread.py",
)


def test_nothing_is_compiled_before_the_first_call() -> None:
    pattern = LazyPattern(r"(\d+)\s*年", re.IGNORECASE)
    assert "search" not in vars(pattern)
    assert pattern.search("2022 年").group(1) == "2022"
    # From then on the compiled pattern's own bound methods answer, without the fallback.
    assert vars(pattern)["search"] == re.compile(r"(\d+)\s*年", re.IGNORECASE).search


@pytest.mark.parametrize(
    "text",
    ["", "12月3日（周六）上午9:00", "TEL: 0519-8888 6666", "https://pan.baidu.com/s/1AbC x", "3,000余"],
)
def test_every_lazy_pattern_of_values_answers_like_its_compiled_pattern(text: str) -> None:
    lazy = {name: p for name, p in vars(values).items() if isinstance(p, LazyPattern)}
    assert len(lazy) >= 20  # the module's patterns really are lazy
    for name, pattern in lazy.items():
        fresh = LazyPattern(pattern.pattern, pattern.flags)  # not yet compiled
        compiled = re.compile(pattern.pattern, pattern.flags)
        assert [m.span() for m in fresh.finditer(text)] == [m.span() for m in compiled.finditer(text)], name
        assert fresh.sub("#", text) == compiled.sub("#", text), name
        assert fresh.split(text) == compiled.split(text), name
        assert bool(fresh.fullmatch(text)) == bool(compiled.fullmatch(text)), name


def test_a_name_a_pattern_lacks_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        LazyPattern("a").no_such_method  # noqa: B018


def test_the_validators_modules_compile_no_pattern_at_import() -> None:
    compiled_at_import = []
    for rel in LAZY_MODULES:
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        for node in tree.body:  # module level only: a compile inside a function runs on use
            for call in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.ClassDef) else ():
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "compile"
                    and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "re"
                ):
                    compiled_at_import.append(f"{rel}:{call.lineno}")
    assert compiled_at_import == []
