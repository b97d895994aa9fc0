"""infra/template.yaml through cfn-lint, run as a separate process: clean, and able to catch a broken one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.sam import TEMPLATE


def test_cfn_lint_is_clean() -> None:
    exe = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    command = [exe] if exe else [sys.executable, "-m", "cfnlint"]
    done = subprocess.run([*command, str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_cfn_lint_would_catch_a_broken_template(tmp_path: Path) -> None:
    # The clean result above means something only if the linter reads this kind of template.
    broken = tmp_path / "broken.yaml"
    text = TEMPLATE.read_text(encoding="utf-8").replace("Threshold: 0", "Threshold: zero", 1)
    broken.write_text(text, encoding="utf-8")
    exe = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    command = [exe] if exe else [sys.executable, "-m", "cfnlint"]
    done = subprocess.run([*command, str(broken)], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0, done.stdout
    assert "'zero' is not of type 'number'" in done.stdout
