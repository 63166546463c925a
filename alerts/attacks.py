"""An attack is one case: a parent per attack flag, the cases of its member reviews as its children.

The team files one appeal for the whole attack and closes it as one; each member keeps its own
case (and history) because the buyer behind it may still be a genuine one to contact.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlmodel import Session, select

from models.cases import Case, CaseEvent
from models.catalog import Listing
from models.detection import Flag

from alerts.guidance import guidance_for
from monitor.in_lists import id_filters

RESOLVED = ("modified", "closed")


def _open_parent(session: Session, flag: Flag, *, actor: str, language: str, now: datetime) -> Case:
    listing = session.get(Listing, flag.listing_id) if flag.listing_id else None
    parent = Case(
        flag_id=flag.id,
        shop_id=flag.shop_id,
        listing_id=flag.listing_id,
        item_title=listing.title if listing else None,
        severity="critical",
        kinds=["attack"],
        guidance=guidance_for(["attack"], None, language),  # type: ignore[arg-type]
        opened_at=now,
        updated_at=now,
        last_progress_at=now,
    )
    session.add(parent)
    session.flush()
    session.add(CaseEvent(case_id=parent.id, at=now, actor=actor, action="opened",
                          data={"severity": "critical", "flag_reasons": list(flag.reasons)}))
    return parent


def link_attack_cases(
    session: Session, *, actor: str, language: str, now: datetime, shop_languages: Mapping[int, str] | None = None,
    flag_ids: Collection[int] | None = None,
) -> int:
    """Give every attack flag (or only ``flag_ids``) a parent case and hang its members' cases under
    it; returns parents opened.

    The parent's guidance is in its shop's language (``shop_languages``, else ``language``).

    A member found after the attack's case was resolved (the flag's next incident) starts a new
    parent, so a closed appeal is never silently reopened.
    """
    opened = 0
    if flag_ids is not None and not flag_ids:
        return 0
    live = select(Flag).where(Flag.kind == "attack", Flag.status != "rejected")
    if flag_ids is None:
        flags = session.exec(live.order_by(Flag.id)).all()
    else:  # the pipeline: the attacks its changes touch
        flags = sorted((f for where in id_filters(Flag.id, flag_ids) for f in session.exec(live.where(where))),
                       key=lambda f: f.id)
    for flag in flags:
        parents = session.exec(
            select(Case).where(Case.flag_id == flag.id, Case.review_id.is_(None)).order_by(Case.id.desc())
        ).all()
        members = flag.attack_reviews()
        loose: list[Case] = []
        for where in id_filters(Case.review_id, members):
            # parent_id tested here, not in SQL: with it in the WHERE, SQLite (no statistics) walks
            # the parent_id index, which holds nearly every case under NULL (0.09 s at 200k cases).
            loose.extend(c for c in session.exec(select(Case).where(where)) if c.parent_id is None)
        parent = next((p for p in parents if p.state not in RESOLVED), None)
        if parent is None and (loose or not parents):
            shop_language = (shop_languages or {}).get(flag.shop_id, language) if flag.shop_id else language
            parent = _open_parent(session, flag, actor=actor, language=shop_language, now=now)
            opened += 1
        for child in loose:
            child.parent_id = parent.id  # type: ignore[union-attr]
            session.add(child)
            session.add(CaseEvent(case_id=child.id, at=now, actor=actor, action="attack",
                                  data={"parent_id": parent.id}))  # type: ignore[union-attr]
    session.flush()
    return opened


def attack_members(session: Session, parent_id: int) -> list[Case]:
    return list(session.exec(select(Case).where(Case.parent_id == parent_id).order_by(Case.id)).all())
