"""Regular expressions compiled on first use instead of at import.

Compiling a pattern is pure Python (re._parser, re._compiler) and values.py alone has some twenty, most
for dates and links a given submission may never contain; compiled at import they cost every process
that imports the validator (the webhook Lambda's cold start, `huizong validate`) about 20 ms before the
first cell is read (docs/cold-start.md). A LazyPattern stands where the compiled pattern stood and
answers the same calls; after the first call the compiled pattern's bound methods are its own
attributes, so later calls cost what a compiled pattern's do.
"""

from __future__ import annotations

import re
from typing import Any

# The methods a compiled pattern answers that the project calls; bound on first use.
_METHODS = ("match", "fullmatch", "search", "sub", "subn", "split", "finditer", "findall")


class LazyPattern:
    """`re.compile(pattern, flags)`, done when a method is first called."""

    def __init__(self, pattern: str, flags: int | re.RegexFlag = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def compiled(self) -> re.Pattern[str]:
        # re keeps its own cache, so a pattern compiled elsewhere is not compiled twice.
        return re.compile(self.pattern, self.flags)

    def __getattr__(self, name: str) -> Any:
        # Reached only for a name the instance lacks: before the first call, or a name that is not a
        # pattern's (AttributeError from the compiled pattern, as before).
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = self.compiled()
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self.flags!r})"
