"""The test suite's own rules: tiers as folders, shared code only in tests/fakes and tests/helpers, no clocks.

- every test module sits in a tier folder (tests/unit, tests/contract, tests/integration, tests/e2e);
- a test module imports from tests/fakes and tests/helpers only, never from another test module (the
  contract runners in tests/contract may import their suite, tests/contract/*_contract.py);
- tests/fakes and tests/helpers hold no tests;
- no test measures wall-clock time (a busy machine fails it): timings belong in bench/;
- a unit test starts no process, server or cloud fake and drives no CLI (those are the other tiers).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers.paths import TESTS

TIERS = ("unit", "contract", "integration", "e2e")
SHARED = ("tests.fakes", "tests.helpers")
CLOCKS = re.compile(r"\b(perf_counter|monotonic|process_time)\b")
NOT_IN_UNIT = {
    "subprocess",
    "multiprocessing",
    "socketserver",
    "http.server",
    "moto",
    "aiosmtpd",
    "click.testing",
    "tests.fakes.aws",
    "tests.fakes.smtp",
    "tests.fakes.secrets_extension",
}


def _test_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
    return out


def _tests_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "tests" else [f"tests.{a.name}" for a in node.names]
            out.extend(n for n in names if n == "tests" or n.startswith("tests."))
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names if a.name == "tests" or a.name.startswith("tests."))
    return out


def _allowed(path: Path, module: str) -> bool:
    if any(module == s or module.startswith(s + ".") for s in SHARED):
        return True
    # A contract runner imports the suite it runs.
    return (
        path.parent == TESTS / "contract"
        and re.fullmatch(r"tests\.contract\.\w+_contract", module) is not None
    )


def test_every_test_module_is_in_a_tier_folder() -> None:
    modules = _test_modules()
    assert len(modules) > 20
    misplaced = [p.relative_to(TESTS) for p in modules if p.relative_to(TESTS).parts[0] not in TIERS]
    assert misplaced == []


def test_test_modules_import_only_fakes_and_helpers() -> None:
    wrong = {
        str(p.relative_to(TESTS)): bad
        for p in _test_modules()
        if (bad := [m for m in _tests_imports(p) if not _allowed(p, m)])
    }
    assert wrong == {}


def test_unit_tests_start_no_process_server_or_cloud_fake() -> None:
    heavy = {
        p.name: found
        for p in sorted((TESTS / "unit").glob("test_*.py"))
        if (
            found := sorted(
                {m for m in _imports(p) for bad in NOT_IN_UNIT if m == bad or m.startswith(bad + ".")}
            )
        )
    }
    assert heavy == {}


def test_fakes_and_helpers_hold_no_tests() -> None:
    for folder in (TESTS / "fakes", TESTS / "helpers"):
        for path in folder.rglob("*.py"):
            assert not path.name.startswith("test_"), path
            tree = ast.parse(path.read_text(encoding="utf-8"))
            tests = [
                n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")
            ]
            assert tests == [], path


def test_no_test_reads_a_clock_to_time_itself() -> None:
    timed = {
        str(p.relative_to(TESTS)): sorted(set(CLOCKS.findall(p.read_text(encoding="utf-8"))))
        for p in _test_modules()
        if CLOCKS.search(p.read_text(encoding="utf-8")) and p.resolve() != Path(__file__).resolve()
    }
    assert timed == {}


@pytest.mark.parametrize(
    ("where", "source", "allowed"),
    [
        ("unit", "from tests.helpers.store import add\n", True),
        ("unit", "from tests.fakes.google import FakeGoogle\n", True),
        ("unit", "from tests.integration.test_handlers import cloud\n", False),
        ("unit", "from tests import workbooks\n", False),
        ("unit", "import tests.e2e.test_loop\n", False),
        ("contract", "from tests.contract.store_contract import StoreContract\n", True),
        ("unit", "from tests.contract.store_contract import StoreContract\n", False),
    ],
)
def test_the_import_rule_tells_allowed_from_forbidden(
    tmp_path: Path, where: str, source: str, allowed: bool
) -> None:
    # The rule above checked on samples, so a broken check cannot pass silently.
    path = tmp_path / "test_sample.py"
    path.write_text(source, encoding="utf-8")
    modules = _tests_imports(path)
    assert modules and all(_allowed(TESTS / where / path.name, m) for m in modules) is allowed
