"""The dependency rule, checked on the source: entry points → services → ports ← adapters.

Every import counts, including those inside functions and under TYPE_CHECKING: a lazy import is still
a dependency. A layer below may never reach up, so the composition root (functions/bootstrap.py) can
import everything without a cycle and services can be tested on in-memory fakes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ENTRY_POINTS = (
    "functions.bootstrap",
    "functions.cli",
    "functions.handlers",
    "functions.serve",
    "functions.web",
)
# (layer, where its modules are, the module prefixes it must not import)
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("schemas", ("schemas",), ("functions", "sheets_templates")),
    (
        "neutral modules",
        (
            "functions/ports.py",
            "functions/app.py",
            "functions/sheet_model.py",
            "functions/settings.py",
            "functions/atomic_file.py",
            "functions/config",
        ),
        ("functions.services", "functions.adapters", *ENTRY_POINTS),
    ),
    ("validation", ("functions/validate",), ("functions.services", "functions.adapters", *ENTRY_POINTS)),
    ("sheet layout", ("sheets_templates",), ("functions.services", "functions.adapters", *ENTRY_POINTS)),
    ("services", ("functions/services",), ("functions.adapters", *ENTRY_POINTS)),
    ("adapters", ("functions/adapters",), ("functions.services", *ENTRY_POINTS)),
]


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Every module a source file imports, with its line (relative imports are not used here)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            # `from functions import bootstrap` imports functions.bootstrap
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _files(root: Path, places: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for place in places:
        path = root / place
        out.extend([path] if path.suffix == ".py" else sorted(path.rglob("*.py")))
    return out


def violations(root: Path) -> list[str]:
    found: list[str] = []
    for layer, places, forbidden in RULES:
        for path in _files(root, places):
            for line, module in imported_modules(path.read_text(encoding="utf-8")):
                if any(module == f or module.startswith(f + ".") for f in forbidden):
                    found.append(f"{path.relative_to(root)}:{line}: {layer} import {module}")
    return found


def test_no_layer_reaches_up() -> None:
    assert violations(ROOT) == []


def test_schemas_do_not_import_the_rest_of_the_project() -> None:
    # The strongest rule, checked on its own so a failure names it.
    assert not [v for v in violations(ROOT) if v.startswith("schemas")]


@pytest.mark.parametrize(
    ("where", "line", "expected"),
    [
        (
            "functions/services/x.py",
            "from functions.bootstrap import App",
            "services import functions.bootstrap",
        ),
        ("functions/services/x.py", "from functions import bootstrap", "services import functions.bootstrap"),
        (
            "functions/adapters/x.py",
            "import functions.services.loop",
            "adapters import functions.services.loop",
        ),
        ("schemas/x.py", "from functions.ports import Store", "schemas import functions.ports"),
        ("sheets_templates/x.py", "from functions.adapters.xlsx import reader", "sheet layout import"),
        (
            "functions/validate/x.py",
            "def f():\n    from functions.services.intake import peers\n",
            "validation import functions.services.intake",
        ),
    ],
)
def test_the_checker_catches_a_violation(tmp_path: Path, where: str, line: str, expected: str) -> None:
    for folder in ("schemas", "functions/config", "functions/validate", "sheets_templates", "functions/services",
                   "functions/adapters"):  # fmt: skip
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    for name in ("ports", "app", "sheet_model", "settings", "atomic_file"):
        (tmp_path / "functions" / f"{name}.py").write_text("")
    (tmp_path / where).write_text(line + "\n")
    found = violations(tmp_path)
    assert len(found) >= 1 and expected in found[0], found


def test_a_clean_tree_has_no_violation(tmp_path: Path) -> None:
    for folder in ("schemas", "functions/config", "functions/validate", "sheets_templates", "functions/services",
                   "functions/adapters"):  # fmt: skip
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    for name in ("ports", "app", "sheet_model", "settings", "atomic_file"):
        (tmp_path / "functions" / f"{name}.py").write_text("from schemas.campaign import Campaign\n")
    (tmp_path / "functions/services/x.py").write_text(
        "from functions.ports import Store\nfrom functions.app import App\n"
    )
    (tmp_path / "functions/adapters/y.py").write_text("from functions.ports import Store\n")
    assert violations(tmp_path) == []
