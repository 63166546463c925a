"""``id_filters`` must select exactly the given ids, in few queries and within parameter limits."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

from monitor import in_lists
from monitor.in_lists import IN_LIMIT, id_filters, in_filters

UNIVERSE = range(12_000)


@pytest.fixture(scope="module")
def ids_table():  # noqa: ANN201
    engine = create_engine("sqlite://")
    t = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    t.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(t), [{"id": i} for i in UNIVERSE])
    with engine.connect() as conn:
        yield conn, t


def _select(ids_table, ids, **kw) -> tuple[list[int], list]:  # noqa: ANN001
    conn, t = ids_table
    conds = list(id_filters(t.c.id, ids, **kw))
    found = [row[0] for cond in conds for row in conn.execute(select(t.c.id).where(cond))]
    return found, conds


def test_contiguous_block_is_one_range(ids_table) -> None:  # noqa: ANN001
    found, conds = _select(ids_table, range(1, 10_001))
    assert sorted(found) == list(range(1, 10_001))
    assert len(conds) == 1 and len(conds[0].compile().params) == 2


def test_a_long_run_is_split_so_no_query_returns_more_than_a_span(ids_table, monkeypatch) -> None:  # noqa: ANN001
    # PostgreSQL's driver holds a query's whole result at once: a 10M-review backlog is read in spans.
    monkeypatch.setattr(in_lists, "SPAN", 1000)
    ids = [*range(1, 10_001), 10_500, 10_502, *range(11_000, 11_100)]
    found, conds = _select(ids_table, ids)
    assert sorted(found) == ids
    conn, t = ids_table
    sizes = [len(conn.execute(select(t.c.id).where(c)).all()) for c in conds]
    assert max(sizes) <= 1000
    assert len(conds) == 10 + 1 + 1  # ten spans, the short run, one IN list for the two scattered ids


def test_scattered_ids_selected_exactly_once_within_parameter_limit(ids_table) -> None:  # noqa: ANN001
    rng = random.Random(3)
    ids = rng.sample(range(5000), 1500) + list(range(6000, 6100)) + [None, -1, 7, 7, 11_999]
    found, conds = _select(ids_table, ids, max_params=100)
    assert sorted(found) == sorted({i for i in ids if i is not None and i >= 0})  # no id twice, none missing
    assert all(len(c.compile().params) <= 100 for c in conds)
    assert len(conds) < 20  # 1,500 scattered ids in IN lists of 100 plus one range, not one query each


def test_runs_at_the_edges_of_a_block(ids_table) -> None:  # noqa: ANN001
    ids = [0, 1, 2, *range(100, 300), 301, 11_998, 11_999]
    found, _ = _select(ids_table, ids)
    assert sorted(found) == ids


def test_nothing_to_select(ids_table) -> None:  # noqa: ANN001
    assert _select(ids_table, []) == ([], [])
    assert _select(ids_table, [None, -1]) == ([], [])


@pytest.mark.parametrize("as_array", [False, True])
def test_in_filters_select_every_value_once_within_the_limit(ids_table, as_array) -> None:  # noqa: ANN001
    conn, t = ids_table
    rng = random.Random(5)
    values = rng.sample(range(12_000), 2500) + [17, 17, 4242]  # band keys may repeat across reviews
    arg = np.array(values, dtype=np.int64) if as_array else values
    conds = list(in_filters(t.c.id, arg))
    found = [row[0] for cond in conds for row in conn.execute(select(t.c.id).where(cond))]
    assert sorted(found) == sorted(set(values))
    assert all(len(c.compile().params) <= IN_LIMIT for c in conds)
    assert len(conds) == -(-len(set(values)) // IN_LIMIT)
