"""The alert rules start light: the scheduler, the sender and the web import them, the pipeline
alone needs scikit-learn (its reputation upkeep signs texts through monitor.detection)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sklearn", "scipy")


@pytest.mark.parametrize("module", ["alerts.rules", "monitor.reputation", "monitor.reputation.reads"])
def test_importing_does_not_load_scikit_learn(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_the_pipeline_still_finds_the_reputation_upkeep() -> None:
    code = "import sys, monitor.pipeline; print('monitor.reputation.near_duplicates' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "True"
