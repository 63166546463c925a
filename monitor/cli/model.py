"""``shopmon model``: train/evaluate/predict/cv on files, and the model registry."""

from __future__ import annotations

import typer

from monitor.cli import model_registry, model_train

app = typer.Typer(name="model", help="Train, evaluate and manage model versions.", no_args_is_help=True)
app.add_typer(model_train.app)
app.add_typer(model_registry.app)
