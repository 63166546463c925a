"""``shopmon model``: train/evaluate/predict/cv on files, the model registry, and the default models."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from monitor.cli import model_registry, model_train
from monitor.cli.context import progress, ready_settings

app = typer.Typer(name="model", help="Train, evaluate and manage model versions.", no_args_is_help=True)
app.add_typer(model_train.app)
app.add_typer(model_registry.app)


@app.command("bootstrap")
def bootstrap(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print {model: version trained} as JSON.")] = False,
) -> None:
    """Train and register every default model that has no version yet: the review-text models
    (malicious, deceptive, cause) from the packaged seed corpus and the listing image models
    (image_category, image_colour) from the packaged catalogue.

    Models that already have a version are left as they are; detection and the image check run
    this same step on first use, so running it first only moves those seconds to install time.
    A model whose live alias is missing stops it with one line (repair with `shopmon model promote`).
    """
    from monitor.db import session_scope
    from monitor.default_models import DEFAULT_MODELS, ensure_default_models
    from monitor.registry import registry_for

    settings = ready_settings(ctx)
    progress("training the default models that have no version yet ...")
    with session_scope(settings) as session:
        trained = ensure_default_models(settings, session=session)
        live = {name: registry_for(settings, session=session).live_version(name) for name in DEFAULT_MODELS}
    if as_json:
        typer.echo(json.dumps(trained, indent=2))
        return
    for name in DEFAULT_MODELS:
        if name not in trained:
            typer.echo(f"{name}: has versions (live {live[name]})")
        else:
            typer.echo(f"{name}: trained {trained[name]}" + (" (live)" if live[name] == trained[name] else " (candidate)"))
