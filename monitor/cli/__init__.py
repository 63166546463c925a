"""The ``shopmon`` command: a thin layer over the library, one module per command group."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from monitor.cli.context import AppState

app = typer.Typer(
    name="shopmon",
    help="Shop-wide integrity and reputation monitor: crawl reviews, detect abuse, run after-sales cases.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Optional[Path],
        typer.Option("--config", "-c", help="TOML config file (default: ./shopmon.toml or $SHOPMON_CONFIG)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = AppState(config_path=config)


# Each module holds its commands as module-level functions on its own typer app: a group
# (typer.Typer(name=...)) or top-level commands (a nameless app, merged here). The order here is
# the order in --help.
COMMAND_MODULES = (
    "demo",
    "db",
    "crawl",
    "parse",
    "detect",
    "process",
    "listings",
    "reputation",
    "cases",
    "alerts",
    "watchlist",
    "schedule",
    "worker",
    "model",
    "labels",
    "users",
    "web",
)
for _name in COMMAND_MODULES:
    app.add_typer(importlib.import_module(f"monitor.cli.{_name}").app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: every expected failure becomes one line on stderr and an exit code."""
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.errors import ShopmonError

    command = typer.main.get_command(app)
    try:
        # Without standalone mode, click returns a `typer.Exit(code)` raised by a command.
        result = command.main(args=argv, prog_name="shopmon", standalone_mode=False)
    except ShopmonError as exc:
        typer.echo(f"shopmon: error: {exc}", err=True)
        return exc.exit_code
    except SQLAlchemyError as exc:
        from monitor.db import error_line

        first = error_line(exc)
        if "locked" in first:
            first += " (another process kept it busy; nothing was written, try again)"
        typer.echo(f"shopmon: error: database: {first}", err=True)
        return 1
    except PermissionError as exc:
        typer.echo(f"shopmon: error: permission denied: {exc.filename}", err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("shopmon: interrupted", err=True)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        return 1
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            typer.echo(f"shopmon: error: {exc}", err=True)
        return getattr(exc, "exit_code", 2)
    return result if type(result) is int else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
