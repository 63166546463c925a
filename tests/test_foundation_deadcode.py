"""No dead code in the packages (vulture, configured in pyproject.toml), and the gate would catch some."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from monitor.paths import PROJECT_ROOT

PACKAGES = ("monitor", "spiders", "models", "alerts")
WHITELIST = Path("tests") / "deadcode_whitelist.py"
# vulture's exit status when it found unused code
FOUND = 3


def vulture(root: Path) -> subprocess.CompletedProcess[str]:
    """`vulture` as a developer runs it in ``root``: paths and patterns come from its pyproject.toml."""
    return subprocess.run([sys.executable, "-m", "vulture"], cwd=root, capture_output=True, text=True, timeout=300)


def test_no_dead_code():
    result = vulture(PROJECT_ROOT)
    assert result.returncode == 0, "dead code (delete it; see tests/deadcode_whitelist.py for what is not):\n" + (
        result.stdout + result.stderr)


def test_a_dead_function_fails_the_gate(tmp_path):
    for name in PACKAGES:
        shutil.copytree(PROJECT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    shutil.copy(PROJECT_ROOT / WHITELIST, tmp_path / WHITELIST)
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert vulture(tmp_path).returncode == 0  # the copy is as clean as the tree
    # One in the domain, one among the commands (whose decorated functions the gate ignores).
    for rel, name in (("alerts/cases/workflow.py", "_nobody_calls_this"), ("monitor/cli/db.py", "also_never_called")):
        path = tmp_path / rel
        path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef {name}() -> int:\n    return 1\n",
                        encoding="utf-8")

    result = vulture(tmp_path)

    assert result.returncode == FOUND, result.stdout + result.stderr
    assert "alerts/cases/workflow.py" in result.stdout and "unused function '_nobody_calls_this'" in result.stdout
    assert "monitor/cli/db.py" in result.stdout and "unused function 'also_never_called'" in result.stdout
