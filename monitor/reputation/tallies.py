"""Reputation facts counted per (shop or listing, day, combination of marks), and the recount
that keeps those counts equal to the facts.

A verdict reads a target's few hundred ``ReputationTally`` rows (``tally_shop``,
``tally_listings``) instead of its facts, judged by the same ``checks.assess_tally`` as the
full recompute. A whole shop is counted when it is built (``count_groups``); after that, every
change to the facts notes the (shop, listing, day) groups it touched in a ``Dirty``, and
``recount`` counts only those groups again from the facts, so a tally never drifts from them.

One change is cheaper to follow than to count again: a near-duplicate mark turning on or off on
a stored fact (a new copy of a stock phrase gives partners on every day of a shop's history, and
counting a shop's day again reads all its facts of that day). Its writer knows the fact's
columns before and after, so ``Dirty.move`` notes the fact leaving one tally row and entering
another, and ``recount`` adds those moves to the rows unless it counts their group again anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, literal, select
from sqlmodel import Session

from models.reputation import ReputationFact, ReputationTally

from monitor.db import insert_rows, plain_rows, upsert
from monitor.in_lists import chunks, id_filters
from monitor.reputation.checks import Tally
from monitor.reputation.reads import REMOVING_KINDS

# The bit of each removing kind in a fact's (and a tally row's) ``removed`` mask.
BIT = {kind: 1 << i for i, kind in enumerate(REMOVING_KINDS)}
# A tally row's key (its primary key), in this order in ``Dirty.moves``.
KEY = ("scope", "target_id", "day", "removed", "once", "dup", "professional")


def count_groups(session: Session, scope: str, where: Any) -> None:
    """Tally rows counted from the facts that ``where`` selects (whole groups: the caller has
    deleted those groups' old rows)."""
    f = ReputationFact
    target, dup = (f.shop_id, f.dup_shop) if scope == "shop" else (f.listing_id, f.dup_listing)
    keys = (target, f.day, f.removed, f.once, dup, f.professional)
    session.execute(insert(ReputationTally).from_select(
        ["scope", "target_id", "day", "removed", "once", "dup", "professional", "shop_id", "n", "rating_sum"],
        select(literal(scope), *keys, func.min(f.shop_id), func.count(), func.sum(f.rating))
        .where(where, target.is_not(None)).group_by(*keys),
    ))


class Dirty:
    """The (shop, listing, day) groups whose facts a change touched: their tally rows are counted
    again from the facts at the end (``recount``), so a tally never drifts from its facts."""

    def __init__(self) -> None:
        self.groups: set[tuple[int, int | None, int]] = set()
        # Tally row key (KEY) -> [shop_id, n, rating_sum] to add: facts that moved between rows.
        self.moves: dict[tuple, list[int]] = {}

    def move(self, scope: str, target_id: int, shop_id: int, day: int, removed: int, once: bool,
             professional: bool, rating: int, dup: tuple[bool, bool]) -> None:
        """A fact of this (scope, target, day) whose ``dup`` mark went from ``dup[0]`` to ``dup[1]``,
        the rest of it unchanged: one fewer in the old row, one more in the new."""
        for is_dup, sign in ((dup[0], -1), (dup[1], 1)):
            key = (scope, target_id, day, removed, bool(once), bool(is_dup), bool(professional))
            entry = self.moves.setdefault(key, [shop_id, 0, 0])
            entry[1] += sign
            entry[2] += sign * rating

    def add_where(self, session: Session, where: Any) -> None:
        f = ReputationFact
        self.groups.update(session.execute(select(f.shop_id, f.listing_id, f.day).where(where).distinct()).all())

    def add_ids(self, session: Session, ids: Iterable[int]) -> None:
        for where in id_filters(ReputationFact.review_id, ids):
            self.add_where(session, where)


def recount(session: Session, dirty: Dirty) -> None:
    """Count the dirty (target, day) groups again from the facts and replace their tally rows.

    One small grouped SELECT per target (the same cached statement each time), then one
    executemany DELETE and one INSERT for all of them; then the moves of groups not counted."""
    f, t = ReputationFact, ReputationTally
    days: dict[tuple[str, int], set[int]] = defaultdict(set)
    for shop_id, listing_id, day in dirty.groups:
        days[("shop", shop_id)].add(day)
        if listing_id is not None:
            days[("listing", listing_id)].add(day)
    # Built once per scope and executed with parameters: building a statement costs more than running it.
    counts = {}
    for scope, column, dup in (("shop", f.shop_id, f.dup_shop), ("listing", f.listing_id, f.dup_listing)):
        counts[scope] = (
            select(f.day, f.removed, f.once, dup, f.professional, func.min(f.shop_id), func.count(), func.sum(f.rating))
            .where(column == bindparam("target"), f.day.in_(bindparam("days", expanding=True)))
            .group_by(f.day, f.removed, f.once, dup, f.professional)
        )
    rows: list[dict[str, Any]] = []
    for (scope, target_id), wanted in sorted(days.items()):
        for batch in chunks(sorted(wanted)):
            rows += [
                {"scope": scope, "target_id": target_id, "day": day, "removed": removed, "once": once, "dup": is_dup,
                 "professional": professional, "shop_id": shop_id, "n": n, "rating_sum": rating_sum}
                for day, removed, once, is_dup, professional, shop_id, n, rating_sum
                in session.execute(counts[scope], {"target": target_id, "days": batch})
            ]
    if days:
        # Core executemany: the ORM session has no bulk DELETE with parameter lists.
        session.connection().execute(
            delete(t).where(t.scope == bindparam("s"), t.target_id == bindparam("i"), t.day == bindparam("d")),
            [{"s": scope, "i": target_id, "d": day} for (scope, target_id), wanted in days.items() for day in wanted])
    if rows:
        insert_rows(session, t, rows)
    _apply_moves(session, [(key, v) for key, v in dirty.moves.items()
                           if key[2] not in days.get(key[:2], ()) and (v[1] or v[2])])


def _apply_moves(session: Session, moves: list[tuple[tuple, list[int]]]) -> None:
    """Add the moves to their tally rows (a row a fact moved into may be new), then drop rows
    left empty, as a recount would not write them."""
    if not moves:
        return
    t = ReputationTally.__table__  # type: ignore[attr-defined]
    stmt = upsert(session, ReputationTally)
    stmt = stmt.on_conflict_do_update(index_elements=list(KEY), set_={
        "n": t.c.n + stmt.excluded.n, "rating_sum": t.c.rating_sum + stmt.excluded.rating_sum})
    session.execute(stmt, [{**dict(zip(KEY, key, strict=True)), "shop_id": shop_id, "n": n, "rating_sum": rating_sum}
                           for key, (shop_id, n, rating_sum) in moves])
    emptied = [{f"k_{k}": v for k, v in zip(KEY, key, strict=True)} for key, (_, n, _) in moves if n < 0]
    if emptied:
        session.connection().execute(delete(t).where(*(t.c[k] == bindparam(f"k_{k}") for k in KEY), t.c.n <= 0),
                                     emptied)


# --- verdicts from the tallies ------------------------------------------------------------


def _add(t: Tally, day: int, removed: int, once: Any, dup: Any, professional: Any, n: int, rating_sum: int) -> None:
    # Read as the cursor's tuples (plain_rows): the flags may be 0/1 and are only tested for truth.
    t.reviews += n
    t.rating_sum += rating_sum
    if removed:
        t.removed += n
        t.removed_rating_sum += rating_sum
        for kind, bit in BIT.items():
            if removed & bit:
                t.kinds[kind] += n
    t.per_day[date.fromordinal(day)] += n
    if dup:
        t.near_duplicates += n
    if once:
        t.once += n
        t.once_rating_sum += rating_sum
    if professional:
        t.professional += n


def tally_shop(session: Session, shop_id: int) -> Tally:
    t = ReputationTally
    out = Tally()
    for row in plain_rows(session, select(t.day, t.removed, t.once, t.dup, t.professional, t.n, t.rating_sum)
                          .where(t.scope == "shop", t.target_id == shop_id)):
        _add(out, *row)
    return out


def tally_listings(session: Session, listing_ids: Iterable[int]) -> dict[int, Tally]:
    t = ReputationTally
    out = {lid: Tally() for lid in listing_ids}
    for where in id_filters(t.target_id, list(out)):
        for lid, *row in plain_rows(session, select(
                t.target_id, t.day, t.removed, t.once, t.dup, t.professional, t.n, t.rating_sum)
                .where(t.scope == "listing", where)):
            _add(out[lid], *row)
    return out
