"""Every command has --help and is documented in README.md or docs/."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from monitor.cli import app
from monitor.paths import PROJECT_ROOT


def _command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(cmd, prefix: tuple[str, ...]) -> None:  # noqa: ANN001
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*prefix, name))
        if prefix:
            paths.append(prefix)

    walk(root, ())
    return paths


COMMANDS = _command_paths()
REQUIRED = {
    ("demo",), ("db", "upgrade"), ("crawl",), ("detect",), ("alerts", "send"), ("cases", "list"),
    ("cases", "show"), ("cases", "update"), ("schedule",), ("model", "train"), ("model", "evaluate"),
    ("model", "predict"), ("model", "cv"), ("model", "list"), ("model", "promote"), ("parse",),
}


def test_required_commands_exist() -> None:
    missing = sorted(" ".join(p) for p in REQUIRED - set(COMMANDS))
    assert not missing, f"commands missing: {missing}"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_help_works(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def _docs_text() -> str:
    parts = [(PROJECT_ROOT / "README.md").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "docs").glob("*.md"))]
    return "\n".join(parts)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_documented(path: tuple[str, ...]) -> None:
    assert f"shopmon {' '.join(path)}" in _docs_text(), f"`shopmon {' '.join(path)}` is not documented"


def test_python_dash_m_works() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "monitor", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "shopmon" in out.stdout


def test_usage_error_is_one_clear_message(capsys) -> None:
    from monitor.cli import main

    assert main(["db", "upgrade", "--no-such-option"]) == 2
    assert "No such option" in capsys.readouterr().err


def test_progress_only_on_a_terminal(capsys, monkeypatch) -> None:
    import sys

    from monitor.cli.context import progress

    progress("quiet in pipes")
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    progress("[1/2] crawling shop")
    assert capsys.readouterr().err == "[1/2] crawling shop\n"
