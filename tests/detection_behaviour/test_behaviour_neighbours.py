"""The near-duplicate walk over stored bands finds the clusters a whole-database pass finds.

``neighbours.clusters_around`` is what a run over new reviews uses instead of hashing every stored
text again; if it lost a bucket member or a link, a template's accounts would look fewer than they
are, and only in runs over new reviews (the order test would then fail on scenarios it covers).
"""

from __future__ import annotations

import random

import numpy as np

from models import Review
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


def test_walks_from_any_seeds_find_the_whole_database_clusters(session, db_settings, world, monkeypatch):
    monkeypatch.setattr(neighbours, "_COMPARE_CHUNK", 7)  # signatures compared over several chunks
    bad_max = db_settings.detection.case_max_rating
    listing = world.listing()
    for i, text in enumerate(_texts(random.Random(7))):
        world.review(world.reviewer(), listing, hours=i, rating=1, text=text)
    world.review(world.reviewer(), listing, hours=0, rating=5, text="，".join(PHRASES[:6]))  # praise: unsigned
    session.flush()
    rows = load_rows(session, Scope(None, *(np.zeros(0, dtype=np.int64),) * 3, None))
    bad = rows.bad(bad_max)
    neighbours.sign(session, rows.id, bad)

    whole = text_clusters(session, rows, bad)
    expected = _partition(whole.rows.id, whole.label)
    assert len(expected) >= 6 and max(len(c) for c in expected) >= 8  # the scenario has real clusters

    walked = neighbours.clusters_around(session, rows.id, bad_max=bad_max, threshold=TEMPLATE_SIMILARITY)
    assert _partition(walked.rows.id, walked.label) == expected
    same = np.searchsorted(whole.rows.id, walked.rows.id)
    assert np.array_equal(whole.rows.id[same], walked.rows.id)
    assert np.array_equal(whole.similarity[same], walked.similarity)

    # From one member, the walk reaches its whole cluster (and whole clusters only: buckets it
    # reads may link other reviews among themselves); a walk reused for a second call (as
    # behaviour does when it examines more reviewers) answers as a fresh one.
    walk = neighbours.Walk(session, bad_max)
    for cluster in sorted(expected, key=min)[:3]:
        seed = np.array([min(cluster)], dtype=np.int64)
        for w in (walk, None, walk):  # the second walk from a seed reads nothing new
            found = neighbours.clusters_around(session, seed, bad_max=bad_max, threshold=TEMPLATE_SIMILARITY, walk=w)
            got = _partition(found.rows.id, found.label)
            assert cluster in got and got <= expected

    # A deleted review leaves its buckets: its cluster is found without it.
    cluster = max(expected, key=len)
    gone = sorted(cluster)[1]
    session.get(Review, gone).deleted_at = world.shop.created_at
    session.flush()
    found = neighbours.clusters_around(session, np.array([min(cluster)]), bad_max=bad_max,
                                       threshold=TEMPLATE_SIMILARITY)
    assert gone not in found.rows.id.tolist()
    assert set(found.rows.id[found.label >= 0].tolist()) <= cluster - {gone}
