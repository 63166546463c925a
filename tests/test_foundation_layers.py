"""The layer contracts in .importlinter hold, and they would catch an import that points upwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from monitor.paths import PROJECT_ROOT

LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("monitor", "spiders", "models", "alerts", "fixtures")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(root / ".importlinter")],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )


def test_the_tree_keeps_its_layers():
    result = lint(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_contract(tmp_path):
    for name in PACKAGES:
        shutil.copytree(PROJECT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("*.jpg", "*.png", "__pycache__"))
    shutil.copy(PROJECT_ROOT / ".importlinter", tmp_path / ".importlinter")
    db = tmp_path / "monitor" / "db.py"
    # The foundation reaching up into the application, as a function-level import would hide it.
    db.write_text(db.read_text(encoding="utf-8") + "\n\ndef _upwards():\n    import monitor.pipeline  # noqa\n", encoding="utf-8")

    result = lint(tmp_path)

    assert result.returncode == 1
    assert "monitor.db is not allowed to import monitor.pipeline" in result.stdout
