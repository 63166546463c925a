"""Stored reviews as numpy columns, fetched in chunks with SQL (never as ORM objects).

Behaviour detection looks at whole histories (a reviewer's every review, a shop's baseline),
so it reads a handful of small columns for many rows; one million reviews fit in ~40 MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import chain

import numpy as np
from sqlalchemy import Integer, and_, cast, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from models import Review
from monitor.in_lists import id_filters

CHUNK = 50_000
_BEIJING = timezone(timedelta(hours=8))


def epoch_seconds(session: Session, column: ColumnElement) -> ColumnElement:
    """Seconds since 1970 computed by the database: converting a million datetimes in Python is slow."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.extract("epoch", column), Integer)


@dataclass
class ReviewRows:
    """Columns of stored reviews; -1 marks a missing id and 0 a missing rating."""

    id: np.ndarray
    reviewer: np.ndarray
    listing: np.ndarray
    shop: np.ndarray
    t: np.ndarray
    rating: np.ndarray

    def __len__(self) -> int:
        return len(self.id)

    @classmethod
    def empty(cls) -> ReviewRows:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, z, np.zeros(0, dtype=np.int8))

    def take(self, idx: np.ndarray) -> ReviewRows:
        return ReviewRows(
            self.id[idx], self.reviewer[idx], self.listing[idx], self.shop[idx], self.t[idx], self.rating[idx]
        )

    def bad(self, max_rating: int) -> np.ndarray:
        return (self.rating > 0) & (self.rating <= max_rating)

    @classmethod
    def concat(cls, parts: Sequence[ReviewRows]) -> ReviewRows:
        """The rows of ``parts`` in order, each review once (its first copy)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        ids = np.concatenate([p.id for p in parts])
        _, first = np.unique(ids, return_index=True)
        keep = None
        if len(first) < len(ids):
            keep = np.zeros(len(ids), dtype=bool)
            keep[first] = True
        del ids, first

        # One column at a time, copies dropped as it is joined: joining every column and then
        # taking the first copies held the rows twice more (a slice's 5.3M rows at 10M stored).
        def column(name: str) -> np.ndarray:
            joined = np.concatenate([getattr(p, name) for p in parts])
            return joined if keep is None else joined[keep]

        return cls(*(column(f) for f in cls.__dataclass_fields__))


def _posted(session: Session) -> ColumnElement:
    """When a review was posted, in epoch seconds (first seen when the page gave no date)."""
    return epoch_seconds(session, func.coalesce(Review.created_at, Review.first_seen))


def _columns(session: Session):  # noqa: ANN202
    return (
        Review.id,
        func.coalesce(Review.reviewer_id, -1),
        func.coalesce(Review.listing_id, -1),
        func.coalesce(Review.shop_id, -1),
        _posted(session),
        func.coalesce(Review.rating, 0),
    )


def _fetch(session: Session, where: ColumnElement | None) -> ReviewRows:
    stmt = select(*_columns(session)).where(Review.deleted_at.is_(None))
    if where is None:
        # The whole table: streamed, so PostgreSQL's driver never holds a million rows at once.
        result = session.execute(stmt.execution_options(yield_per=CHUNK))
        return ReviewRows.concat([_chunk_rows(chunk) for chunk in result.partitions(CHUNK)])
    return ReviewRows.concat([_chunk_rows(chunk) for chunk in _cursor_chunks(session, stmt.where(where))])


def _cursor_chunks(session: Session, stmt) -> Iterator[Sequence[tuple]]:  # noqa: ANN001
    """A bounded read (ids, recent timelines) straight from the DBAPI cursor's plain tuples:
    building a SQLAlchemy Row per review was ~40% of reading a touched shop's 30 days (172k
    reviews at 1M). Not streamed: with stream_results SQLAlchemy pre-reads a row from the cursor."""
    result = session.connection().execute(stmt)
    try:
        while chunk := result.cursor.fetchmany(CHUNK):
            yield chunk
    finally:
        result.close()


def _int_matrix(chunk: Sequence, width: int) -> np.ndarray:
    # fromiter over the flattened values: np.array(rows) probes every Row for array protocols
    # first (18 failed attribute lookups per row, most of the read's time).
    return np.fromiter(chain.from_iterable(chunk), dtype=np.int64, count=width * len(chunk)).reshape(-1, width)


def _chunk_rows(chunk: Sequence) -> ReviewRows:
    a = _int_matrix(chunk, 6)
    return ReviewRows(a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], a[:, 5].astype(np.int8))


def fetch_ids(session: Session, review_ids: Iterable[int]) -> ReviewRows:
    """The live reviews among ``review_ids``."""
    return ReviewRows.concat([_fetch(session, where) for where in id_filters(Review.id, review_ids)])


def reviewer_rows(session: Session, reviewer_ids: Iterable[int]) -> ReviewRows:
    """Whole live histories of some reviewers."""
    return ReviewRows.concat([_fetch(session, where) for where in id_filters(Review.reviewer_id, reviewer_ids)])


def oldest_first(session: Session, review_ids: Iterable[int], size: int) -> list[np.ndarray]:
    """The live reviews among ``review_ids`` in slices of at most ``size``, oldest first, each slice's
    ids sorted. A backlog processed slice by slice is seen as crawls would have brought it: each
    slice's scope starts 30 days before its oldest review, so its reads stay near its own time."""
    stmt = select(Review.id, _posted(session)).where(Review.deleted_at.is_(None))
    parts = [_int_matrix(chunk, 2) for where in id_filters(Review.id, review_ids)
             for chunk in _cursor_chunks(session, stmt.where(where))]
    if not parts:
        return []
    rows = np.concatenate(parts)
    all_ids = rows[:, 0]
    order = np.lexsort((all_ids, rows[:, 1]))
    return [np.sort(all_ids[order[start : start + size]]) for start in range(0, len(order), size)]


@dataclass
class Scope:
    """What a run looks at: everything, or the neighbourhood of some new reviews."""

    review_ids: np.ndarray | None
    reviewers: np.ndarray
    listings: np.ndarray
    shops: np.ndarray
    since: int | None
    until: int | None = None

    @property
    def everything(self) -> bool:
        return self.review_ids is None


def scope_for(session: Session, review_ids: Sequence[int] | None, *, baseline_days: float,
              horizon_hours: float) -> Scope:
    """The reviewers, listings and shops touched by ``review_ids`` (None: the whole database), and
    the time range of their timelines: ``baseline_days`` before the oldest to ``horizon_hours``
    after the newest. A crawl's new reviews are the newest, so the range ends about now; a slice
    of a backlog (oldest_first) reads its own weeks, not every later review."""
    z = np.zeros(0, dtype=np.int64)
    if review_ids is None:
        return Scope(None, z, z, z, None)
    new = fetch_ids(session, review_ids)
    if not len(new):
        return Scope(np.zeros(0, dtype=np.int64), z, z, z, None)
    return Scope(
        new.id,
        np.unique(new.reviewer[new.reviewer >= 0]),
        np.unique(new.listing[new.listing >= 0]),
        np.unique(new.shop[new.shop >= 0]),
        int(new.t.min() - baseline_days * 86400),
        int(new.t.max() + horizon_hours * 3600),
    )


def load_rows(session: Session, scope: Scope) -> ReviewRows:
    """Whole histories of the scope's reviewers plus the recent timelines of its shops and listings."""
    if scope.everything:
        return _fetch(session, None)
    if scope.review_ids is not None and len(scope.review_ids) == 0:
        return ReviewRows.empty()
    # A second's margin each side: the database's timestamps keep fractions that epoch seconds drop.
    since_dt = datetime.fromtimestamp(scope.since or 0, UTC) - timedelta(seconds=1)
    when = func.coalesce(Review.created_at, Review.first_seen)
    span = when >= since_dt
    if scope.until is not None:
        span = and_(span, when < datetime.fromtimestamp(scope.until, UTC) + timedelta(seconds=1))
    parts = [reviewer_rows(session, scope.reviewers)]
    parts += [_fetch(session, and_(where, span)) for where in id_filters(Review.shop_id, scope.shops)]
    parts += [
        _fetch(session, and_(where, Review.shop_id.is_(None), span))
        for where in id_filters(Review.listing_id, scope.listings)
    ]
    return ReviewRows.concat(parts)


def iter_texts(session: Session, ids: np.ndarray) -> Iterable[tuple[np.ndarray, list[str]]]:
    """(ids, texts) in chunks, in the order of ``ids``; title and text together, as readers see them."""
    order = np.asarray(ids, dtype=np.int64)
    for start in range(0, len(order), CHUNK):
        want = order[start : start + CHUNK]
        got: dict[int, str] = {}
        for where in id_filters(Review.id, want.tolist()):
            stmt = select(Review.id, Review.title, Review.text).where(where)
            for rid, title, text in session.execute(stmt):
                got[rid] = f"{title} {text}" if title else (text or "")
        yield want, [got.get(int(i), "") for i in want]


def purchase_times(session: Session, reviewer_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(reviewer id, hours from purchase to review) where the platform shows the purchase time.

    Spiders keep the platform's raw record; JD calls the order time ``referenceTime``
    (Beijing time), other spiders may normalise it to ``purchased_at`` (ISO 8601).
    """
    keys = (("purchased_at", UTC), ("referenceTime", _BEIJING))
    when = func.coalesce(Review.created_at, Review.first_seen)
    out_r: list[int] = []
    out_h: list[float] = []
    cols = [Review.reviewer_id, when] + [Review.raw[k].as_string() for k, _ in keys]
    for where in id_filters(Review.reviewer_id, reviewer_ids.tolist()):
        stmt = select(*cols).where(where, or_(*(col.is_not(None) for col in cols[2:])))
        for rid, at, *raws in session.execute(stmt):
            bought = _parse_first(raws, [tz for _, tz in keys])
            if bought is None or at is None:
                continue
            out_r.append(rid)
            out_h.append((at - bought).total_seconds() / 3600)
    return np.array(out_r, dtype=np.int64), np.array(out_h, dtype=np.float64)



def _parse_first(raws: list[str | None], zones: list) -> datetime | None:  # noqa: ANN001
    for raw, tz in zip(raws, zones, strict=True):
        if not raw:
            continue
        try:
            dt = datetime.fromisoformat(str(raw).strip().replace("/", "-"))
        except ValueError:
            continue
        return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt
    return None
