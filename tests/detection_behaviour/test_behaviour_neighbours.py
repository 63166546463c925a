"""The near-duplicate clusters kept as reviews are signed are the clusters a whole-database pass finds.

``neighbours.link`` and ``clusters_of`` are what a run over new reviews uses instead of hashing every
stored text again; if linking lost a bucket member or a link, a template's accounts would look fewer
than they are, and only in runs over new reviews (the order test would then fail on scenarios it covers).
"""

from __future__ import annotations

import random

import numpy as np

from sqlalchemy import update
from sqlmodel import select

from models import Review, ReviewSignature
from monitor.detection import neighbours
from monitor.detection.review_rows import Scope, load_rows
from monitor.detection.reviewer_features import TEMPLATE_SIMILARITY, text_clusters

BOTH_DATABASES = True

ITEMS = ["杯子", "外套", "耳机", "台灯", "鞋子", "背包", "雨伞", "键盘"]
PHRASES = ["质量太差了", "用了两天就坏了", "客服也不理人", "大家千万别买", "发货慢得离谱", "和图片完全不一样",
           "线头到处都是", "味道很大散不掉", "尺码严重偏小", "快递盒子压扁了", "退款一直不处理", "颜色发错了"]


def _texts(rng: random.Random) -> list[str]:
    """Templates copied with small edits (chains of near-duplicates), plus one-off complaints."""
    out = []
    for item in ITEMS:
        base = [item + p for p in rng.sample(PHRASES, 6)]
        for copy in range(rng.randint(2, 12)):
            words = list(base)
            if copy % 3 == 1:
                words[rng.randrange(6)] = item + rng.choice(PHRASES)  # an edited copy: similar, not equal
            out.append("，".join(words) + f"！！{copy}")
    out += ["，".join(rng.sample(PHRASES, 5)) for _ in range(40)]
    out += ["差评", "bad"]  # too short to match anything
    rng.shuffle(out)
    return out


def _partition(ids: np.ndarray, label: np.ndarray) -> set[frozenset[int]]:
    return {frozenset(ids[label == c].tolist()) for c in np.unique(label[label >= 0])}


def _world(session, world, bad_max):  # noqa: ANN001, ANN202
    listing = world.listing()
    for i, text in enumerate(_texts(random.Random(7))):
        world.review(world.reviewer(), listing, hours=i, rating=1, text=text)
    world.review(world.reviewer(), listing, hours=0, rating=5, text="，".join(PHRASES[:6]))  # praise: unsigned
    session.flush()
    rows = load_rows(session, Scope(None, *(np.zeros(0, dtype=np.int64),) * 3, None))
    bad = rows.bad(bad_max)
    whole = text_clusters(session, rows, bad)
    expected = _partition(whole.rows.id, whole.label)
    assert len(expected) >= 6 and max(len(c) for c in expected) >= 8  # the scenario has real clusters
    return rows, bad, whole, expected


def _sign_in_batches(session, rows, bad, batches, bad_max) -> None:  # noqa: ANN001
    for ids in batches:
        mine = np.isin(rows.id, ids)
        neighbours.sign(session, rows.id[mine], bad[mine], bad_max=bad_max, threshold=TEMPLATE_SIMILARITY)


def _batches(ids: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    cuts = np.cumsum(sizes)
    return [part for part in np.split(ids, cuts[cuts < len(ids)]) if len(part)]


def test_reviews_signed_in_id_order_keep_the_whole_database_clusters(session, db_settings, world, monkeypatch):
    monkeypatch.setattr(neighbours, "_COMPARE_CHUNK", 7)  # signatures compared over several chunks
    bad_max = db_settings.detection.case_max_rating
    rows, bad, whole, expected = _world(session, world, bad_max)
    # One at a time first (every arrival merges into what is stored), then in larger batches.
    _sign_in_batches(session, rows, bad, _batches(np.sort(rows.id), [1] * 30 + [5, 17, 40]), bad_max)

    kept = neighbours.clusters_of(session, rows.id, bad_max=bad_max)
    assert _partition(kept.rows.id, kept.label) == expected
    same = np.searchsorted(whole.rows.id, kept.rows.id)
    assert np.array_equal(whole.rows.id[same], kept.rows.id)
    assert np.array_equal(whole.similarity[same], kept.similarity)
    # A cluster is named by its lowest member.
    names = dict(session.exec(select(ReviewSignature.review_id, ReviewSignature.cluster)).all())
    for cluster in expected:
        assert {names[i] for i in cluster} == {min(cluster)}

    # From one member, its whole cluster (and nothing else).
    for cluster in sorted(expected, key=min)[:3]:
        found = neighbours.clusters_of(session, np.array([max(cluster)]), bad_max=bad_max)
        assert _partition(found.rows.id, found.label) == {cluster}

    # A deleted review is no member any more; its cluster is found without it.
    cluster = max(expected, key=len)
    gone = sorted(cluster)[1]
    session.get(Review, gone).deleted_at = world.shop.created_at
    session.flush()
    found = neighbours.clusters_of(session, np.array([min(cluster)]), bad_max=bad_max)
    assert _partition(found.rows.id, found.label) == {cluster - {gone}}


def test_reviews_signed_out_of_order_still_hold_every_whole_database_link(session, db_settings, world):
    """Newest first (a first crawl stores pages newest first): a review that arrives lower than a
    bucket's leader leads it from then on, and the older members are compared with it. Links are
    never taken back, so stored clusters may join whole-database clusters, never split one."""
    bad_max = db_settings.detection.case_max_rating
    rows, bad, whole, expected = _world(session, world, bad_max)
    _sign_in_batches(session, rows, bad, _batches(np.sort(rows.id)[::-1], [3] * 10 + [20, 50]), bad_max)

    kept = _partition(*(lambda c: (c.rows.id, c.label))(neighbours.clusters_of(session, rows.id, bad_max=bad_max)))
    for cluster in expected:
        assert any(cluster <= k for k in kept), cluster
    for k in kept:
        assert k == frozenset().union(*(c for c in expected if c <= k))


def test_a_whole_database_pass_and_signatures_from_before_clusters_were_kept(session, db_settings, world):
    bad_max = db_settings.detection.case_max_rating
    rows, bad, whole, expected = _world(session, world, bad_max)
    neighbours.rebuild(session, whole)  # what a re-score of everything stores
    kept = neighbours.clusters_of(session, rows.id, bad_max=bad_max)
    assert _partition(kept.rows.id, kept.label) == expected

    # Signatures stored before migration 0020 have no similarity: the next signing clusters them first.
    session.execute(update(ReviewSignature).values(cluster=None, similarity=None))
    assert not len(neighbours.clusters_of(session, rows.id, bad_max=bad_max).rows)
    neighbours.sign(session, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), bad_max=bad_max,
                    threshold=TEMPLATE_SIMILARITY)
    kept = neighbours.clusters_of(session, rows.id, bad_max=bad_max)
    assert _partition(kept.rows.id, kept.label) == expected
    same = np.searchsorted(whole.rows.id, kept.rows.id)
    assert np.array_equal(whole.similarity[same], kept.similarity)


def test_a_bucket_leader_since_deleted_is_passed_over(session, db_settings, world):
    """A whole-database pass reads live reviews only: a copy of a deleted review has no near-duplicate."""
    bad_max = db_settings.detection.case_max_rating
    listing = world.listing()
    text = "，".join(PHRASES[:6])

    def signed(review: Review) -> int | None:
        session.flush()
        ids = np.array([review.id], dtype=np.int64)
        neighbours.sign(session, ids, np.ones(1, dtype=bool), bad_max=bad_max, threshold=TEMPLATE_SIMILARITY)
        return session.exec(select(ReviewSignature.cluster).where(ReviewSignature.review_id == review.id)).one()

    first = world.review(world.reviewer(), listing, hours=0, rating=1, text=text)
    assert signed(first) is None
    first.deleted_at = world.shop.created_at
    copy = world.review(world.reviewer(), listing, hours=1, rating=1, text=text + "！")
    assert signed(copy) is None
    again = world.review(world.reviewer(), listing, hours=2, rating=1, text=text + "！！")
    assert signed(again) == copy.id
