"""``shopmon model``: train/evaluate/predict/cv on files, and the model registry."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from monitor.cli import model_registry, model_train

    model_app = typer.Typer(help="Train, evaluate and manage model versions.", no_args_is_help=True)
    model_train.register(model_app)
    model_registry.register(model_app)
    app.add_typer(model_app, name="model")
