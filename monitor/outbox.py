"""The outbox of changed ids: detection records what it scored and flagged, the next step
(opening cases) takes exactly that, so post-crawl work grows with what a crawl brought, not with
the stored history. Rows are deleted in the consumer's own transaction: a crash before it
commits leaves them for the next run."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlmodel import Session

from models import Outbox
from monitor.db import insert_rows
from monitor.in_lists import id_filters


def record(session: Session, consumer: str, target_type: str, ids: Iterable[int]) -> None:
    rows = [{"consumer": consumer, "target_type": target_type, "target_id": int(i)} for i in set(ids) if i is not None]
    insert_rows(session, Outbox, rows)


def take(session: Session, consumer: str) -> dict[str, set[int]]:
    """Everything waiting for ``consumer``, by target type; removed when the caller commits."""
    out: dict[str, set[int]] = {}
    row_ids: list[int] = []
    for row_id, target_type, target_id in session.execute(
        select(Outbox.id, Outbox.target_type, Outbox.target_id).where(Outbox.consumer == consumer)
    ):
        row_ids.append(row_id)
        out.setdefault(target_type, set()).add(target_id)
    for where in id_filters(Outbox.id, row_ids):
        session.execute(delete(Outbox).where(where))
    return out
