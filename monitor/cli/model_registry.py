"""``shopmon model list|show|promote|rollback|sign``: the model registry from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings, settings_from

# Commands of `shopmon model`, merged into its app.
app = typer.Typer()


def _primary(metrics: dict) -> str:
    # pr_auc is what `shopmon model train` records; average_precision what the gate computes.
    for key in ("average_precision", "pr_auc", "macro_f1", "f1", "accuracy"):
        if isinstance(metrics.get(key), int | float):
            return f"{key}={metrics[key]:.4f}"
    return "-"


def _warning(meta: object) -> str | None:
    """Set by `shopmon model train --allow-low-recall` on a version whose threshold catches too little."""
    return getattr(meta, "params", {}).get("threshold_warning")


@app.command("list")
def list_versions(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Option("--name", help="Only this model (malicious, cause, ...).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List model versions, oldest first; the live one of each model is marked with *."""
    from monitor.registry import registry_for

    reg = registry_for(settings_from(ctx))
    metas = reg.versions(name)
    if as_json:
        typer.echo(json.dumps([m.as_dict() for m in metas], indent=2, ensure_ascii=False))
        return
    if not metas:
        typer.echo(f"no model versions in {reg.root} (train one with `shopmon model train`)")
        return
    for m in metas:
        mark = "*" if m.live else " "
        typer.echo(f"{mark} {m.version:<40} {m.created_at[:19]}  {_primary(m.metrics):<28} {m.data_fingerprint[:19]}"
                   + ("  WARNING: low recall at the precision target" if _warning(m) else ""))
    for m in metas:
        if _warning(m):
            typer.echo(f"WARNING {m.version}: {_warning(m)}")


@app.command("show")
def show(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="Version id, as printed by `shopmon model list`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metadata as JSON.")] = False,
) -> None:
    """Print a version's metadata (fingerprint, libraries, thresholds, metrics) and model card."""
    from monitor.registry import registry_for

    reg = registry_for(settings_from(ctx))
    name = reg.resolve(version)
    meta = reg.meta(name, version)
    if as_json:
        typer.echo(json.dumps(meta.as_dict(), indent=2, ensure_ascii=False))
        return
    typer.echo(f"{meta.version}{'  (live)' if meta.live else ''}")
    if _warning(meta):
        typer.echo(f"WARNING: {_warning(meta)}")
    typer.echo(f"path: {meta.path}")
    report = Path(meta.path) / "report.html"
    if report.is_file():
        typer.echo(f"report: {report} (open in a browser; works offline)")
    typer.echo(f"sha256: {meta.sha256}")
    typer.echo(f"training data: {meta.data_fingerprint}")
    typer.echo(f"held-out data: {meta.holdout_fingerprint or 'not stored'}")
    typer.echo("libraries: " + ", ".join(f"{k} {v}" for k, v in sorted(meta.libraries.items())))
    typer.echo("thresholds: " + (json.dumps(meta.thresholds) if meta.thresholds else "-"))
    typer.echo("")
    typer.echo(reg.card(name, version).rstrip())


@app.command("promote")
def promote(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="Version id to make live.")],
    force: Annotated[bool, typer.Option("--force", help="Promote even if it scores worse than live.")] = False,
    data: Annotated[
        Optional[Path],
        typer.Option("--data", help="Held-out CSV/TSV/JSONL (text + label) to compare on; "
                                    "default: the held-out rows stored with VERSION."),
    ] = None,
    min_delta: Annotated[
        float, typer.Option("--min-delta", help="Required improvement of the compared metric.")
    ] = 0.0,
) -> None:
    """Make VERSION live after comparing it with the live version on the same held-out data.

    The comparison is printed side by side. A version that scores worse is refused
    (exit status 3) unless --force.
    """
    from monitor.db import session_scope
    from monitor.labels import read_labeled_file
    from monitor.registry import registry_for, sync_to_db
    from monitor.training.gate import gate

    settings = ready_settings(ctx)
    reg = registry_for(settings)
    name = reg.resolve(version)
    frame = read_labeled_file(data) if data is not None else None
    verdict = gate(reg, name, version, frame=frame, data_name=str(data) if data else None,
                   precision_target=settings.detection.precision_target, min_delta=min_delta)
    if verdict.live_version is not None:
        typer.echo(verdict.table())
    # Refusal raises PromotionRefused: one line on stderr, exit status 3.
    reg.promote(name, version, force=force, comparison=verdict)
    with session_scope(settings) as session:
        sync_to_db(reg, session, name=name)
    forced = " (forced)" if force and not verdict.passed else ""
    typer.echo(f"{version} is now the live {name} model{forced}; "
               "re-score existing reviews with `shopmon detect --rescore`")


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: Annotated[
        Optional[str], typer.Argument(help="Model name (malicious, cause, ...); optional when there is one.")
    ] = None,
) -> None:
    """Make the previously live version of NAME live again."""
    from monitor.db import session_scope
    from monitor.errors import ConfigError
    from monitor.registry import registry_for, sync_to_db

    settings = ready_settings(ctx)
    reg = registry_for(settings)
    if name is None:
        names = reg.names()
        if len(names) != 1:
            raise ConfigError(
                "say which model to roll back: " + (", ".join(names) if names else "(no models yet)")
            )
        name = names[0]
    current = reg.alias_or_none(name)
    target = reg.rollback(name)
    with session_scope(settings) as session:
        sync_to_db(reg, session, name=name)
    typer.echo(f"{name}: live version is now {target} (was {current})")


@app.command("sign")
def sign_versions(
    ctx: typer.Context,
    versions: Annotated[list[str], typer.Argument(help="Version ids to sign, as printed by `shopmon model list`.")],
) -> None:
    """Sign versions with the current registry key (after setting or changing SHOPMON_REGISTRY_KEY).

    Run it only for versions you know are yours: signing vouches for them. The model file must
    still match its sha256 and hold only allowed types; a live alias naming VERSION is re-signed too.
    """
    from monitor.registry import registry_for

    reg = registry_for(ready_settings(ctx))
    for version in versions:
        name = reg.resolve(version)
        reg.sign_version(name, version)
        if reg.alias_target(name) == version:
            reg.sign_alias(name, version)
            typer.echo(f"signed {version} and the live alias of {name}")
        else:
            typer.echo(f"signed {version}")
