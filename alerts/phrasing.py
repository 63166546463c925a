"""Message templates (话术) per case kind, language and use, which a supervisor edits.

Staff are offered the text for their channel when they record a contact; the shop's public
reply under the review is drafted from the same store. A supervisor's stored wording replaces
the product's default for that kind, language and use; removing it brings the default back.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from models.base import utcnow
from models.cases import Case
from models.catalog import Listing, Shop
from models.phrasing import TEMPLATE_USES, MessageTemplate
from models.roles import Role, edits_templates
from monitor.errors import ConfigError, DataError

from alerts.guidance import CASE_KINDS, case_kind
from alerts.i18n import LABELS
from alerts.phrasing_defaults import DONE, PLACEHOLDERS, REMEDY, default_text

LANGUAGES = ("en", "zh")
# The handbook's contact order: 旺旺 first, then SMS, then a phone call.
_NEXT_CHANNEL = {"none": "wangwang", "wangwang": "sms", "sms": "phoned", "phoned": "phoned"}


def next_channel(contact_status: str) -> str:
    """The channel to try next after the last contact made."""
    return _NEXT_CHANNEL.get(contact_status, "wangwang")


@dataclass(frozen=True)
class Template:
    kind: str
    language: str
    use: str
    text: str
    edited_by: str | None = None  # None: the product's default
    edited_at: datetime | None = None


def _check_key(kind: str, language: str, use: str) -> None:
    if kind not in CASE_KINDS:
        raise ConfigError(f"unknown case kind {kind!r}; choose from {', '.join(CASE_KINDS)}")
    if language not in LANGUAGES:
        raise ConfigError(f"unknown language {language!r}; choose from {', '.join(LANGUAGES)}")
    if use not in TEMPLATE_USES:
        raise ConfigError(f"unknown use {use!r}; choose from {', '.join(TEMPLATE_USES)}")


def _stored(session: Session, kind: str, language: str, use: str) -> MessageTemplate | None:
    return session.exec(
        select(MessageTemplate).where(
            MessageTemplate.kind == kind, MessageTemplate.language == language, MessageTemplate.use == use
        )
    ).first()


def get_template(session: Session, kind: str, language: str, use: str) -> Template:
    _check_key(kind, language, use)
    row = _stored(session, kind, language, use)
    if row is not None:
        return Template(kind, language, use, row.text, row.updated_by, row.updated_at)
    return Template(kind, language, use, default_text(kind, language, use))


def all_templates(session: Session, *, language: str | None = None, kind: str | None = None) -> list[Template]:
    return [
        get_template(session, k, lang, use)
        for k in CASE_KINDS
        if kind is None or k == kind
        for lang in LANGUAGES
        if language is None or lang == language
        for use in TEMPLATE_USES
    ]


def _check_placeholders(text: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise DataError(f"the template has an unbalanced brace: {exc} (write {{{{ and }}}} for literal braces)") from None
    unknown = sorted(n for n in names if n not in PLACEHOLDERS)
    if unknown:
        raise DataError(f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; "
                        f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")


def set_template(
    session: Session, kind: str, language: str, use: str, text: str, *, role: Role, actor: str,
    now: datetime | None = None,
) -> Template:
    """Store a supervisor's wording; an empty text removes it (the default applies again)."""
    if not edits_templates(role):
        raise ConfigError(f"a {role} cannot edit message templates; a supervisor or admin can")
    if not (actor or "").strip():
        raise DataError("an edit needs the name of who made it (--by)")
    _check_key(kind, language, use)
    row = _stored(session, kind, language, use)
    if not text.strip():
        if row is not None:
            session.delete(row)
            session.flush()
        return get_template(session, kind, language, use)
    _check_placeholders(text)
    row = row or MessageTemplate(kind=kind, language=language, use=use, text="", updated_by="")
    row.text, row.updated_by, row.updated_at = text.strip(), actor.strip(), now or utcnow()
    session.add(row)
    session.flush()
    return get_template(session, kind, language, use)


def render_for_case(session: Session, case: Case, use: str, language: str, *, done: str | None = None) -> str:
    """The template for this case's kind, filled in with what the record knows.

    For the public reply (``use="public_reply"``) ``done`` says what the shop did, when staff know
    better than the cause's usual remedy.
    """
    kind = case_kind(case.kinds, case.cause)
    template = get_template(session, kind, language, use)
    shop = session.get(Shop, case.shop_id) if case.shop_id else None
    listing = session.get(Listing, case.listing_id) if case.listing_id else None
    cause = case.cause if case.cause in REMEDY else "other"
    values = {
        "buyer": case.buyer_nick or "",
        "item": case.item_title or (listing.title if listing else "") or "",
        "shop": (shop.name or shop.config_id or shop.external_id) if shop else "",
        "link": (listing.url if listing else "") or "",
        "remedy": REMEDY[cause][language],
        "cause": LABELS[language].get(cause, cause),
        "done": (done or "").strip() or DONE[cause][language],
    }
    return template.text.format_map(values)
