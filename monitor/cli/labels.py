"""``shopmon labels export|import|queue``: analysts' side of the detection loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings, user_name


def _task_error(task: str | None) -> None:
    from monitor.errors import ConfigError
    from monitor.labels import TASKS

    if task is not None and task not in TASKS:
        raise ConfigError(f"unknown task {task!r} (one of: {', '.join(TASKS)})")


app = typer.Typer(name="labels", help="Export flags for review, import labels, pick what to label next.",
                  no_args_is_help=True)


@app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Output file: .csv or .jsonl.")],
    task: Annotated[Optional[str], typer.Option("--task", help="Only this task (malicious, cause, ...).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="At most this many rows.")] = None,
) -> None:
    """Write open flags awaiting review, with the model's score, version and reasons.

    Fill in the `label` column (yes/no, or the cause) and load it with `shopmon labels import`.
    """
    from monitor.db import session_scope
    from monitor.labels import export_pending

    _task_error(task)
    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        n = export_pending(session, out, task=task, limit=limit)
    typer.echo(f"exported {n} item(s) awaiting review to {out}")


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Labeled .csv or .jsonl (the export/queue format).")],
    labeler: Annotated[
        Optional[str], typer.Option("--labeler", help="Who labeled (default: your user name); "
                                                      "a labeler column overrides it per row.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Change labels this labeler gave earlier instead of refusing.")
    ] = False,
) -> None:
    """Validate every row, then store all labels in one transaction (or none on any problem)."""
    from monitor.db import session_scope
    from monitor.labels import import_labels

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        summary = import_labels(session, path, labeler=labeler or user_name("analyst"), replace=replace)
    parts = [f"{k} {v}" for k, v in summary.as_dict().items()]
    typer.echo(f"{path}: " + ", ".join(parts))
    for dup in summary.duplicates[:10]:
        typer.echo(f"  duplicate ignored: {dup}")


@app.command("queue")
def queue(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("--n", min=1, help="How many reviews to pick.")] = 50,
    task: Annotated[str, typer.Option("--task", help="malicious, deceptive or cause.")] = "malicious",
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Also write them as .csv/.jsonl, ready to label and import.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Pick the unlabeled reviews whose labels would teach the model most.

    Ranked by the live model's uncertainty, disagreement between model versions, and
    how unlike anything labeled the text is; each line says why it was picked.
    """
    from monitor.db import session_scope
    from monitor.labels import build_queue
    from monitor.labels.rows import write_rows
    from monitor.registry import registry_for

    _task_error(task)
    settings = ready_settings(ctx)
    threshold = settings.detection.thresholds.get(task, 0.5)
    with session_scope(settings) as session:
        items = build_queue(session, registry_for(settings), task=task, n=n, default_threshold=threshold)
    if out is not None:
        write_rows(out, [i.as_row(task) for i in items])
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in items], indent=2, ensure_ascii=False))
        return
    if not items:
        typer.echo(f"nothing to label for {task}: every review is labeled (or none was crawled yet)")
        return
    for rank, item in enumerate(items, 1):
        text = " ".join(item.text.split())
        text = text if len(text) <= 60 else text[:59] + "…"
        typer.echo(f"{rank:>3}. review {item.review_id:<7} priority {item.priority:.2f}  {text}")
        typer.echo(f"     why: {'; '.join(item.reasons)}")
    if out is not None:
        typer.echo(f"wrote {len(items)} row(s) to {out}")


@app.command("dataset")
def dataset(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Training file to write: .csv or .jsonl.")],
    task: Annotated[str, typer.Option("--task", help="malicious, deceptive or cause.")] = "malicious",
    add: Annotated[
        Optional[list[Path]],
        typer.Option("--add", help="Also include this labeled file (text + label columns); repeatable."),
    ] = None,
) -> None:
    """Write the database's labels for TASK (plus --add files) as a training file.

    Columns id, text, label, source: train on it with
    `shopmon model train OUT --name TASK --label label`. Database labels win over file rows
    with the same text; several analysts' labels on one review are decided by majority.
    """
    from monitor.db import session_scope
    from monitor.errors import DataError
    from monitor.labels import dataset_frame
    from monitor.labels.tasks import REVIEW_TASKS

    _task_error(task)
    if task not in REVIEW_TASKS:
        raise DataError(f"training sets cover review tasks ({', '.join(REVIEW_TASKS)}), not {task!r}")
    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        frame = dataset_frame(session, task, list(add or []))
    suffix = out.suffix.lower()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            frame.to_csv(out, index=False)
        elif suffix in (".jsonl", ".ndjson"):
            frame.to_json(out, orient="records", lines=True, force_ascii=False)
        else:
            raise DataError(f"{out}: use a .csv or .jsonl file name")
    except OSError as exc:
        raise DataError(f"cannot write {out}: {exc.strerror}") from None
    counts = frame["source"].value_counts().to_dict()
    typer.echo(f"wrote {len(frame)} labeled rows for {task} to {out} ("
               + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")")
