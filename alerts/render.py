"""Alert groups to multipart (text + HTML) emails from Jinja2 templates.

Everything that came from a buyer or a page (review text, nicknames, titles, URLs) is
untrusted: HTML autoescapes it, links only keep http(s) URLs, and headers are built by
``email.message.EmailMessage``, whose policy refuses CR/LF in a header value, after we
have already stripped control characters from the subject.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader

from models.cases import severity_rank

from alerts.guidance import ATTACK
from alerts.i18n import LABELS, REPORT, SEVERITY_NAMES, STRINGS, failure_name, human_duration, translate_reason
from alerts.untrusted_text import neutralise_bidi, safe_url, sanitize_header, strip_controls
from monitor.config import Locale, Settings

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_FOR_KIND = {
    "serious_case": "cases",
    "escalation": "cases",
    "attack": "attack",
    "image_mismatch": "image_mismatch",
    "crawl_health": "crawl_health",
    "daily_digest": "report",
    "weekly_report": "report",
}
REPORT_KINDS = ("daily_digest", "weekly_report")


def _when(value: object, timezone: str = "UTC") -> str:
    """An ISO time from a payload as ``YYYY-MM-DD HH:MM`` in the team's zone (what people read)."""
    if not isinstance(value, str) or not value:
        return "-"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return parsed.strftime("%Y-%m-%d %H:%M")
    local = parsed.astimezone(ZoneInfo(timezone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def _escalation_why(payload: dict[str, Any], language: str, timezone: str) -> str:
    """Why a case escalated, in the reader's language and zone (the rule stores the facts, not a sentence)."""
    t = STRINGS[language]
    if payload.get("broken_promise"):
        return t["escalated_promise"].format(when=_when(payload.get("promised_by"), timezone))
    hours = payload.get("hours", 48)
    key = "escalated_appeal" if payload.get("appeal_overdue") else "escalated_stalled"
    return t[key].format(hours=f"{hours:g}" if isinstance(hours, int | float) else hours,
                                         when=_when(payload.get("last_progress_at"), timezone))


def _stars(rating: object) -> str:
    if not isinstance(rating, int) or not 0 <= rating <= 5:
        return "-"
    return "★" * rating + "☆" * (5 - rating)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        # Escape everywhere except the plain-text part, where a buyer's "<" is just a character.
        autoescape=lambda name: name is None or not name.endswith(".txt.j2"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=neutralise_bidi,
    )
    env.filters["safe_url"] = safe_url
    env.filters["plain"] = lambda s: strip_controls(s, keep_newlines=True)
    env.filters["stars"] = _stars
    env.filters["when"] = _when
    env.filters["labels"] = lambda values, names: ", ".join(str(names.get(v, v)) for v in values or [])
    env.filters["duration"] = human_duration
    env.filters["reason"] = translate_reason
    env.filters["failure"] = failure_name
    env.filters["escalation_why"] = _escalation_why
    env.filters["stars_avg"] = lambda v: f"{v:.2f}" if isinstance(v, int | float) else "-"
    env.filters["age_names"] = lambda counts, words: {words[f"age_{k}"]: v for k, v in counts.items()}
    env.filters["money"] = lambda cents: f"{cents / 100:,.2f}"
    return env


def _shop_label(payloads: list[dict[str, Any]], language: str) -> str:
    names = list(dict.fromkeys(str(p.get("shop_name") or p.get("shop_config_id") or "") for p in payloads))
    names = [n for n in names if n]
    if not names:
        return "shopmon"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:2]) + ("…" if len(names) > 2 else "")


def _all_calls(payloads: list[dict[str, Any]]) -> bool:
    return all(p.get("next_step", "phone") == "phone" for p in payloads)


def subject_for(kind: str, payloads: list[dict[str, Any]], language: str) -> str:
    t = STRINGS[language]
    sev = SEVERITY_NAMES[language]
    first = payloads[0]
    count = len(payloads)
    shop = _shop_label(payloads, language)
    if kind == "serious_case":
        if all(p.get("reminder") for p in payloads):
            body = t["subject_reminder"].format(count=count, shop=shop)
        elif count == 1:
            body = t["subject_serious_one"].format(
                severity=sev.get(first.get("severity"), first.get("severity")),
                case_id=first.get("case_id"),
                rating=first.get("rating") if first.get("rating") is not None else "?",
                nick=first.get("buyer_nick") or "?",
                item=first.get("item_title") or shop,
            )
        else:
            body = t["subject_serious_many"].format(count=count, shop=shop)
    elif kind == "escalation":
        # "call the buyer" only when every case in the email asks for a call (alerts.inhibition)
        key = "subject_escalation" if _all_calls(payloads) else "subject_escalation_steps"
        body = t[key].format(count=count, hours=f"{first.get('hours', 48):g}", shop=shop)
    elif kind == "attack":
        if count == 1:
            target = first.get("item_title") or shop
            body = t["subject_attack"].format(target=target, count=first.get("member_count", 0))
        else:
            body = t["subject_attack_many"].format(count=count, shop=shop)
    elif kind == "image_mismatch":
        body = t["subject_image_mismatch"].format(count=count, shop=shop)
    elif kind == "crawl_health":
        if count == 1:
            body = t["subject_crawl_health"].format(shop=shop, failure=failure_name(first.get("failure_kind"), language))
        else:
            body = t["subject_crawl_health_many"].format(count=count, shop=shop)
    else:
        body = t[f"subject_{kind}"].format(label=first.get("period", {}).get("label", ""))
    return sanitize_header(f"shopmon: {body}")


def sort_worst_first(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(payloads, key=lambda p: -severity_rank(p.get("severity")))


def render_bodies(
    kind: str,
    payloads: list[dict[str, Any]],
    language: str,
    subject: str,
    timezone: str = "UTC",
    charts: dict[str, str] | None = None,
    cjk_missing: bool = False,
    board_url: str | None = None,
) -> tuple[str, str]:
    """Text and HTML bodies; ``charts`` maps a report chart's name to its Content-ID; with
    ``board_url`` (web.base_url) each case links to its page on the case board."""
    t = STRINGS[language]
    reminder = kind == "serious_case" and all(p.get("reminder") for p in payloads)
    intro_key = "intro_reminder" if reminder else {
        "daily_digest": "intro_report",
        "weekly_report": "intro_report",
        "escalation": "intro_escalation" if _all_calls(payloads) else "intro_escalation_steps",
    }.get(kind, f"intro_{kind}")
    context = {
        "kind": kind,
        "alerts": payloads,
        "t": t,
        "sev": SEVERITY_NAMES[language],
        "lang": language,
        "subject": subject,
        "intro": t[intro_key],
        "guidance_attack": ATTACK[language],  # type: ignore[index]
        "tz": timezone,
        "lbl": LABELS[language],
        "r": REPORT[language],
        "charts": charts or {},
        "cjk_missing": cjk_missing,
        "board": (board_url or "").rstrip("/") or None,
    }
    name = TEMPLATE_FOR_KIND[kind]
    env = environment()
    text = env.get_template(f"{name}.txt.j2").render(context)
    html = env.get_template(f"{name}.html.j2").render(context)
    return text, html


def build_message(
    settings: Settings,
    kind: str,
    alerts: list[tuple[int, dict[str, Any], str]],
    recipients: list[str],
    *,
    now: datetime,
    message_id: str | None = None,
) -> EmailMessage:
    """One email for a group: ``alerts`` are (alert id, payload, severity) triples.

    Reports are in the team's language and zone; everything else in its shop's (shops may set
    their own). A report carries its charts as inline images (multipart/related, cid: links).
    """
    payloads = sort_worst_first([{**p, "severity": sev} for _, p, sev in alerts])
    locale = (
        Locale(settings.alerts.language, settings.alerts.timezone)
        if kind in REPORT_KINDS
        else settings.locale_for(payloads[0].get("shop_config_id"))
    )
    language = locale.language
    subject = subject_for(kind, payloads, language)
    domain = settings.smtp.sender.rsplit("@", 1)[-1]
    charts, cjk_missing = ([], False)
    if kind in REPORT_KINDS:
        # matplotlib is imported only when a report is drawn, not by every process sending mail.
        from alerts.charts import report_charts

        charts, cjk_missing = report_charts(payloads[0], language)
    cids = {c.name: make_msgid(idstring=c.name, domain=domain) for c in charts}
    text, html = render_bodies(
        kind, payloads, language, subject, locale.timezone, {n: cid[1:-1] for n, cid in cids.items()}, cjk_missing,
        board_url=str(settings.web.base_url) if settings.web.base_url else None,
    )
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = subject
    msg["From"] = settings.smtp.sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(now)
    # The sender passes the Message-ID stored for these alerts, so every retry is the same message.
    msg["Message-ID"] = message_id or make_msgid(idstring="shopmon", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Shopmon-Kind"] = kind
    msg["X-Shopmon-Alerts"] = ", ".join(str(i) for i, _, _ in alerts)  # spaces let long lists fold
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_payload()[1]
    for chart in charts:
        html_part.add_related(chart.png, "image", "png", cid=cids[chart.name], filename=f"{chart.name}.png",
                              disposition="inline")
    # Bodies were encoded for 78-column lines above; headers are serialised with the RFC 5322
    # hard limit instead, because Python's folder moves a short ASCII subject to a
    # continuation line, which readers then show with a leading space. Subjects are capped
    # at SUBJECT_MAX characters, far below 998.
    msg.policy = SMTP.clone(max_line_length=998)
    return msg
