"""``shopmon cases templates|message|reply``: the team's message templates (话术) and the public reply draft."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings, user_name

CHANNELS = ("wangwang", "sms", "phoned")
LangOpt = Annotated[Optional[str], typer.Option("--lang", help="en or zh (default: alerts.language).")]

# Commands of `shopmon cases`, merged into its app.
app = typer.Typer()

templates_app = typer.Typer(name="templates", help="Message templates (话术) per case kind, language and use.", no_args_is_help=True)


@templates_app.command("list")
def list_(
    ctx: typer.Context,
    lang: LangOpt = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help="Only this kind (extortion, attack, quality, ...).")] = None,
) -> None:
    """Every template with who last edited it ('default' for the product's wording)."""
    from alerts.phrasing import all_templates
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        rows = all_templates(session, language=lang, kind=kind)
    for t in rows:
        who = f"edited by {t.edited_by} {t.edited_at:%Y-%m-%d}" if t.edited_by and t.edited_at else "default"
        typer.echo(f"[{t.kind} / {t.use} / {t.language}] {who}\n  {t.text}\n")


@templates_app.command("edit")
def edit(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="Case kind: extortion, attack, professional or a cause.")],
    use: Annotated[str, typer.Argument(help="wangwang, sms, phoned or public_reply.")],
    lang: LangOpt = None,
    text: Annotated[Optional[str], typer.Option("--text", help="The new wording, with {buyer}, {item}, ... placeholders.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="Or read the wording from this UTF-8 file.")] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Remove the stored wording: the default applies again.")] = False,
    role: Annotated[str, typer.Option("--role", help="Your role; only supervisor or admin may edit.")] = "staff",
    by: Annotated[Optional[str], typer.Option("--by", help="Who edits (default: your user name).")] = None,
) -> None:
    """Store a supervisor's wording for one kind, use and language (or --reset to the default)."""
    from alerts.phrasing import set_template
    from models.roles import parse_role
    from monitor.db import session_scope
    from monitor.errors import ConfigError

    if sum((text is not None, file is not None, reset)) != 1:
        raise ConfigError("give exactly one of --text, --file or --reset")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {file} as UTF-8 text: {exc}") from None
    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        t = set_template(session, kind, lang or settings.alerts.language, use, "" if reset else text or "",
                         role=parse_role(role), actor=by or user_name("operator"))
    state = "back to the default" if t.edited_by is None else f"saved by {t.edited_by}"
    typer.echo(f"[{t.kind} / {t.use} / {t.language}] {state}")


@app.command("message")
def message(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    channel: Annotated[
        Optional[str], typer.Option("--channel", help="wangwang, sms or phoned (default: the next one to try).")
    ] = None,
    lang: LangOpt = None,
) -> None:
    """The message (or phone script) for contacting this case's buyer, from the team's templates."""
    from alerts.cases import get_case
    from alerts.phrasing import next_channel, render_for_case
    from monitor.db import session_scope
    from monitor.errors import ConfigError

    if channel is not None and channel not in CHANNELS:
        raise ConfigError(f"unknown channel {channel!r}; choose from {', '.join(CHANNELS)}")
    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        case = get_case(session, case_id)
        use = channel or next_channel(case.contact_status)
        typer.echo(render_for_case(session, case, use, lang or settings.alerts.language))


@app.command("reply")
def reply(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    done: Annotated[Optional[str], typer.Option("--done", help="What the shop did, if not the cause's usual remedy.")] = None,
    lang: LangOpt = None,
) -> None:
    """Draft the shop's public reply under the review: cause and remedy if genuine, factual if malicious."""
    from alerts.cases import get_case
    from alerts.phrasing import render_for_case
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        case = get_case(session, case_id)
        typer.echo(render_for_case(session, case, "public_reply", lang or settings.alerts.language, done=done))


app.add_typer(templates_app)
