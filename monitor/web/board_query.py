"""The board's query: filters, worst-first-then-oldest order, keyset paging and a bounded count.

Paging walks the (severity, opened_at, id) index one severity at a time (or the (state|owner|
shop_id, severity, opened_at, id) index when that filter is set), starting at the cursor, so page
2000 of a 100k-case board costs what page 1 costs; OFFSET would re-read every row before it.
The count stops at COUNT_CAP: "1,000+" costs a thousand index entries, an exact count of a
filtered 100k-case view cost a walk of every matching row on each page view.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, literal, or_
from sqlmodel import Session, select

from alerts.cases import RESOLVED_STATES
from models.base import utcnow
from models.cases import SEVERITIES, Case
from models.catalog import Shop
from models.detection import Flag
from models.reviews import Review

WORST_FIRST = tuple(reversed(SEVERITIES))
EXPORT_CHUNK = 1000
COUNT_CAP = 1000
# What one board row shows: columns, not Case objects (the page never writes them), and the
# review's posted time and edit count from the same query (no second look-up per page).
ROW_COLUMNS = (Case.id, Case.severity, Case.opened_at, Case.shop_id, Case.buyer_nick, Case.item_title,
               Case.review_text, Case.rating, Case.cause, Case.kinds, Case.contact_status, Case.state,
               Case.promised_by, Case.owner, Review.created_at.label("posted_at"), Review.revision_count)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return -1  # a value no row has: the filter matches nothing instead of being dropped


@dataclass
class BoardFilter:
    shop: int | None = None
    owner: str | None = None
    state: str | None = None
    severity: str | None = None
    cause: str | None = None
    kind: str | None = None
    overdue: bool = False
    attack: int | None = None
    cursor: tuple[str, datetime, int] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, q: Any, *, me: str | None = None) -> BoardFilter:
        text = {k: (q.get(k) or "").strip() or None for k in ("owner", "state", "severity", "cause", "kind")}
        if q.get("mine") and me:
            text["owner"] = me
        return cls(shop=_int(q.get("shop")), overdue=bool(q.get("overdue")), attack=_int(q.get("attack")),
                   cursor=parse_cursor(q.get("after")), **text)

    def params(self) -> dict[str, str]:
        """The filter as query parameters (for the next-page and export links)."""
        out = {k: str(v) for k, v in (("shop", self.shop), ("owner", self.owner), ("state", self.state),
                                       ("severity", self.severity), ("cause", self.cause), ("kind", self.kind),
                                       ("attack", self.attack)) if v is not None}
        if self.overdue:
            out["overdue"] = "1"
        return out


def parse_cursor(raw: str | None) -> tuple[str, datetime, int] | None:
    if not raw:
        return None
    try:
        sev, at, cid = raw.split("~")
        when = datetime.fromisoformat(at)
        if sev not in SEVERITIES or when.tzinfo is None:
            return None
        return sev, when, int(cid)
    except ValueError:
        return None


def cursor_of(case: Any) -> str:
    return f"{case.severity}~{case.opened_at.isoformat()}~{case.id}"


def _conditions(session: Session, f: BoardFilter, *, now: datetime, overdue_hours: float) -> list[Any]:
    conds: list[Any] = []
    if f.shop is not None:
        conds.append(Case.shop_id == f.shop)
    if f.owner is not None:
        conds.append(Case.owner == f.owner)
    if f.state is not None:
        conds.append(Case.state == f.state)
    if f.cause is not None:
        conds.append(Case.cause == f.cause)
    if f.kind is not None:
        # kinds is a JSON list; its text holds each kind quoted. LIKE wildcards in the value are escaped.
        conds.append(cast(Case.kinds, Text).contains(f'"{f.kind}"', autoescape=True))
    if f.overdue:
        conds.append(Case.state.not_in(RESOLVED_STATES))
        conds.append(Case.last_progress_at < now - timedelta(hours=overdue_hours))
    if f.attack is not None:
        flag = session.get(Flag, f.attack)
        members = list(flag.members) if flag is not None and flag.kind == "attack" else []
        conds.append(or_(Case.review_id.in_(members or [-1]), Case.flag_id == f.attack))
    return conds


def _severities(f: BoardFilter) -> tuple[str, ...]:
    wanted = WORST_FIRST if f.severity is None else tuple(s for s in WORST_FIRST if s == f.severity)
    if f.cursor is not None and f.cursor[0] in wanted:
        wanted = wanted[wanted.index(f.cursor[0]):]
    return wanted


def _after(q: Any, f: BoardFilter, sev: str) -> Any:
    """Rows after the cursor in (opened_at, id) order, written as a range the index can seek to
    (an OR of the two comparisons alone made SQLite read the severity from its start)."""
    if f.cursor is None or f.cursor[0] != sev:
        return q
    _, at, cid = f.cursor
    return q.where(Case.opened_at >= at, or_(Case.opened_at > at, Case.id > cid))


def _in_board_order(f: BoardFilter, conds: list[Any], q: Any) -> Iterator[Any]:
    """``q`` as one query per severity (worst first), each starting at the cursor and in
    (opened_at, id) order: the walk the board's page and its export share."""
    for sev in _severities(f):
        yield _after(q.where(Case.severity == sev, *conds), f, sev).order_by(Case.opened_at, Case.id)


def _ordered(session: Session, f: BoardFilter, conds: list[Any]) -> Iterator[Case]:
    for q in _in_board_order(f, conds, select(Case)):
        yield from session.exec(q.execution_options(yield_per=EXPORT_CHUNK))


def _page_rows(session: Session, f: BoardFilter, conds: list[Any], limit: int) -> list[Any]:
    rows: list[Any] = []
    for q in _in_board_order(f, conds, select(*ROW_COLUMNS).outerjoin(Review, Review.id == Case.review_id)):
        rows += session.exec(q.limit(limit - len(rows))).all()
        if len(rows) >= limit:
            break
    return rows


def bounded_count(session: Session, f: BoardFilter, conds: list[Any], cap: int = COUNT_CAP) -> int:
    """Matching cases, counted up to cap + 1 (more than cap reads as "cap+")."""
    sub = select(literal(1)).select_from(Case).where(*conds)
    if f.severity is not None:
        sub = sub.where(Case.severity == f.severity)
    return session.exec(select(func.count()).select_from(sub.limit(cap + 1).subquery())).one()


@dataclass
class BoardPage:
    rows: list[Any]
    shops: dict[int, Shop]
    total: int
    next_cursor: str | None

    @property
    def total_text(self) -> str:
        return f"{COUNT_CAP:,}+" if self.total > COUNT_CAP else f"{self.total:,}"


def board_page(session: Session, f: BoardFilter, *, page_size: int, overdue_hours: float,
               now: datetime | None = None) -> BoardPage:
    now = now or utcnow()
    conds = _conditions(session, f, now=now, overdue_hours=overdue_hours)
    rows = _page_rows(session, f, conds, page_size + 1)
    more = len(rows) > page_size
    rows = rows[:page_size]
    total = bounded_count(session, f, conds)
    return BoardPage(rows, shops(session), total, cursor_of(rows[-1]) if more and rows else None)


def shops(session: Session) -> dict[int, Shop]:
    return {s.id: s for s in session.exec(select(Shop)).all()}


def all_matching(session: Session, f: BoardFilter, *, overdue_hours: float,
                 now: datetime | None = None) -> Iterator[list[Case]]:
    """Every case of the filtered view in board order, in chunks (for exports)."""
    conds = _conditions(session, f, now=now or utcnow(), overdue_hours=overdue_hours)
    f.cursor = None
    chunk: list[Case] = []
    for case in _ordered(session, f, conds):
        chunk.append(case)
        if len(chunk) >= EXPORT_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
