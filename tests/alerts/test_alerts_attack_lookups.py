"""Hanging cases under their attack looks the members up by review id, never through every case.

On SQLite (no statistics) ``review_id IN (...) AND parent_id IS NULL`` was planned through the
``parent_id`` index, under whose NULL sits nearly every case: at 200k cases each touched attack
cost a 0.09 s walk of the index, in every pipeline run whose new reviews joined an attack.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event

from alerts.attacks import attack_members, link_attack_cases
from alerts.cases import open_cases
from monitor.db import get_engine
from alerts_testkit import factory  # noqa: F401  (fixtures)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_linking_an_attack_searches_cases_by_flag_and_review_only(session, db_settings, factory) -> None:
    listing = factory.listing(factory.shop())
    for i in range(30):  # bad reviews outside the attack: cases without a parent
        factory.review(listing, rating=1, text=f"slow delivery {i}")
    # More members than SQLite's planner guesses for an IS NULL look-up (10 rows): with a few
    # it takes the review_id index anyway.
    members = [factory.review(listing, rating=1, text=f"fake {i}") for i in range(40)]
    flag = factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id,
                        members=[r.id for r in members[:-1]])
    open_cases(session, db_settings, now=T0)
    joined = members[-1]  # a member found by a later run
    flag.members = [r.id for r in members]
    session.add(flag)
    session.flush()

    statements: list[tuple[str, tuple]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001, ARG001
        if statement.lstrip().upper().startswith("SELECT") and 'FROM "case"' in statement:
            statements.append((statement, parameters))

    engine = get_engine(db_settings)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        link_attack_cases(session, actor="system", language="en", now=T0, flag_ids=[flag.id])
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    parent = factory.case_for(joined).parent_id
    assert parent is not None and joined.id in {c.review_id for c in attack_members(session, parent)}
    assert statements
    raw = session.connection().connection.driver_connection
    for statement, parameters in statements:
        plan = " | ".join(row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters))
        assert "ix_case_parent_id" not in plan and "SCAN case" not in plan, (statement, plan)
