"""Professional-reviewer scoring, the watchlist, idempotency and awkward input."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import select

from models import Flag, Label, Review
from monitor.detection import behaviour, professional, reviewer_features, watchlist
from monitor.detection.review_rows import ReviewRows, load_rows, oldest_first, scope_for
from monitor.errors import DataError

TEXTS = [
    "the zipper broke on day one", "colour is nothing like the photos", "arrived three weeks late",
    "box crushed and the glass cracked", "seller never answered my messages", "smells of chemicals",
    "size chart is wrong, far too small", "missing the charger cable", "stitching came loose at once",
    "handle snapped while carrying groceries", "paint peeled after washing", "battery dies within an hour",
]


def all_flags(session, kind: str | None = None) -> list[Flag]:
    stmt = select(Flag).order_by(Flag.id)
    if kind:
        stmt = stmt.where(Flag.kind == kind)
    return list(session.exec(stmt))


def test_empty_database_works(session, db_settings):
    assert behaviour.run(session, db_settings) == {
        "professional": 0, "attack": 0, "watchlist": 0, "behaviour_flags_updated": 0, "reviewers_scored": 0,
    }
    assert behaviour.run(session, db_settings, review_ids=[])["reviewers_scored"] == 0
    assert behaviour.run(session, db_settings, review_ids=[12345])["reviewers_scored"] == 0  # unknown id


def test_serial_one_star_poster_is_professional_single_angry_buyer_is_not(session, db_settings, world):
    listings = [world.listing() for _ in range(9)]
    pro = world.reviewer(nick="pro", level="注册会员")
    for i, lst in enumerate(listings):
        world.review(pro, lst, i * 5, 1, TEXTS[i])
    angry = world.reviewer(nick="angry", level="钻石会员")
    world.review(angry, listings[0], 3, 1, "the strap tore off the first time I used it")
    happy = world.reviewer(nick="happy")
    for i in range(3):
        world.review(happy, listings[i], 100 + i, 5, f"lovely bag number {'one two three'.split()[i]}")
    world.commit()

    counts = behaviour.run(session, db_settings)

    pros = all_flags(session, "professional")
    assert [f.target_id for f in pros] == [pro.id]
    assert counts["professional"] == 1 and counts["reviewers_scored"] == 3
    f = pros[0]
    assert f.model_version == professional.RULES_VERSION and f.target_type == "reviewer"
    assert f.score >= 0.5
    assert "posted 9 one-star reviews in 40 h" in f.reasons
    assert "9 of 9 reviews are bad (1-3 star)" in f.reasons
    assert "first review on the account is negative" in f.reasons
    assert "account level '注册会员' is the platform's lowest" in f.reasons


def test_rerun_writes_no_duplicate_flags(session, db_settings, world):
    listing = world.listing()
    for i in range(6):
        world.review(world.reviewer(), listing, i / 10, 1, "fake product, smells awful, seller is a liar, avoid!")
    watched = world.reviewer(watchlisted=True, watch_note="known extortionist")
    world.review(watched, listing, 5, 2, "meh")
    world.commit()

    first = behaviour.run(session, db_settings)
    session.commit()
    before = [(f.id, f.kind, f.target_id, f.members, f.reasons) for f in all_flags(session)]
    assert first["professional"] == 6 and first["attack"] == 1 and first["watchlist"] == 1

    second = behaviour.run(session, db_settings)
    again = behaviour.run(session, db_settings, review_ids=list(session.exec(select(Review.id))))
    session.commit()
    after = [(f.id, f.kind, f.target_id, f.members, f.reasons) for f in all_flags(session)]
    assert after == before
    assert second["professional"] == second["attack"] == second["watchlist"] == 0
    assert second["behaviour_flags_updated"] == 0 and again["behaviour_flags_updated"] == 0


def test_attack_flag_grows_with_new_members_and_reopens(session, db_settings, world):
    listing = world.listing()
    first = [world.review(world.reviewer(), listing, i / 10, 1, f"awful {TEXTS[i]}") for i in range(6)]
    world.commit()
    behaviour.run(session, db_settings)
    flag = all_flags(session, "attack")[0]
    flag.status = "rejected"
    session.add(flag)
    session.commit()

    later = [world.review(world.reviewer(), listing, 0.7 + i / 10, 1, f"bad {TEXTS[i + 6]}") for i in range(3)]
    world.commit()
    counts = behaviour.run(session, db_settings, review_ids=[r.id for r in later])
    session.commit()

    flags = all_flags(session, "attack")
    assert len(flags) == 1 and counts["attack"] == 0 and counts["behaviour_flags_updated"] >= 1
    assert set(flags[0].members) == {r.id for r in first + later}
    assert flags[0].status == "open"
    assert "new member reviews after the flag was rejected" in flags[0].reasons
    assert flags[0].incident == 0  # more of the same burst, not a new attack


@pytest.mark.parametrize("days", [10, 60])
def test_a_burst_weeks_later_is_a_new_incident_on_the_same_flag(session, db_settings, world, days):
    """10 days: inside the 30-day baseline, which must not count the first attack as normal."""
    listing = world.listing()
    first = [world.review(world.reviewer(), listing, i / 10, 1, f"awful {TEXTS[i]}") for i in range(6)]
    world.commit()
    behaviour.run(session, db_settings)
    session.commit()
    flag = all_flags(session, "attack")[0]
    assert flag.incident == 0

    later_h = days * 24
    later = [world.review(world.reviewer(), listing, later_h + i / 10, 1, f"bad {TEXTS[i + 6]}") for i in range(6)]
    world.commit()
    behaviour.run(session, db_settings, review_ids=[r.id for r in later])
    session.commit()
    flags = all_flags(session, "attack")
    assert len(flags) == 1  # one flag per target and model version; the incident counts the attacks
    flag = flags[0]
    assert {r.id for r in first + later} <= set(flag.members)
    assert flag.incident == 1 and flag.status == "open"
    assert flag.reasons[0].startswith(f"new attack {days} days after the previous one on this target (incident 2)")

    # Re-running on the same data is not yet another incident.
    behaviour.run(session, db_settings)
    session.commit()
    assert all_flags(session, "attack")[0].incident == 1


def test_watchlisted_reviewer_is_flagged_from_db_and_config(session, db_settings, world):
    listing = world.listing()
    a = world.reviewer(nick="a")
    b = world.reviewer(nick="b")
    c = world.reviewer(nick="c")
    for i, r in enumerate((a, b, c)):
        world.review(r, listing, i, 5 if r is c else 1, TEXTS[i])
    world.commit()
    watchlist.add(session, f"taobao:{a.external_id}", note="asked for money twice")
    db_settings.detection.watchlist.append(b.external_id)
    session.commit()

    counts = behaviour.run(session, db_settings)

    flags = {f.target_id: f for f in all_flags(session, "watchlist")}
    assert set(flags) == {a.id, b.id} and counts["watchlist"] == 2
    assert flags[a.id].reasons[0] == "on the analysts' watchlist: asked for money twice"
    assert flags[b.id].reasons[0] == "listed in detection.watchlist in the configuration"
    assert flags[a.id].reasons[1].startswith("posted 1 reviews here (1 bad), latest on 2026-03-01")
    assert flags[a.id].score == 1.0 and flags[a.id].reviewer_id == a.id and flags[a.id].listing_id == listing.id

    watchlist.remove(session, a.id)
    assert not a.watchlisted
    with pytest.raises(DataError, match="not on the watchlist"):
        watchlist.remove(session, a.id)


def test_watchlist_lookup_errors_are_clear(session, world):
    world.reviewer()
    with pytest.raises(DataError, match="no reviewer 'nobody'"):
        watchlist.add(session, "nobody")
    with pytest.raises(DataError, match="no reviewer with id 999"):
        watchlist.add(session, 999)
    with pytest.raises(DataError, match="empty"):
        watchlist.add(session, "  ")


def test_awkward_reviews_do_not_break_detection(session, db_settings, world):
    listing = world.listing()
    world.review(None, listing, 0, 1, "")  # no reviewer, no text
    world.review(world.reviewer(), listing, 1, None, "no rating at all")
    world.review(world.reviewer(), listing, 2, 1, "😡😡😡😡😡😡😡😡😡😡😡")
    world.review(world.reviewer(), listing, 3, 1, "质量 bad 很差 really 差劲 mixed 脚本 text here")
    world.review(world.reviewer(), listing, 4, 2, "long complaint " * 7000)  # ~100 kB
    world.review(world.reviewer(), listing, 5, 1, "long complaint " * 7000)
    world.commit()
    counts = behaviour.run(session, db_settings)
    assert counts["reviewers_scored"] == 5


def test_trained_model_replaces_rules_once_labels_exist(session, db_settings, world):
    listings = [world.listing() for _ in range(6)]
    labelled = []
    for k in range(6):  # professional: many one-star reviews fast
        r = world.reviewer(nick=f"p{k}")
        for i, lst in enumerate(listings):
            world.review(r, lst, k * 100 + i * 2, 1, f"{TEXTS[i]} {TEXTS[(i + k) % 12]}")
        labelled.append((r, "professional"))
    for k in range(6):  # genuine: mixed ratings over months
        r = world.reviewer(nick=f"g{k}")
        for i in range(3):
            world.review(r, listings[i], k * 50 + i * 24 * 30, 5 if i else 2, f"{TEXTS[i + k]} but fine")
        labelled.append((r, "genuine"))
    world.commit()
    for r, value in labelled:
        session.add(Label(target_type="reviewer", target_id=r.id, task="professional", value=value, labeler="ana"))
    session.commit()

    rows = load_rows(session, scope_for(session, None, baseline_days=30, horizon_hours=24))
    bad = rows.bad(3)
    feats = reviewer_features.compute(session, rows, reviewer_features.text_clusters(session, rows, bad),
                                      bad_max_rating=3)
    version = professional.train(session, db_settings, feats)
    session.commit()
    assert version is not None and version.startswith("professional-")

    behaviour.run(session, db_settings)
    pros = all_flags(session, "professional")
    assert {f.model_version for f in pros} == {version}
    assert {f.target_id for f in pros} == {r.id for r, v in labelled if v == "professional"}
    assert all(any(x.startswith("model top factors: ") for x in f.reasons) for f in pros)


def test_too_few_labels_keep_the_rules(session, db_settings, world):
    r = world.reviewer()
    world.review(r, world.listing(), 0, 1, TEXTS[0])
    world.commit()
    session.add(Label(target_type="reviewer", target_id=r.id, task="professional", value="yes", labeler="a"))
    session.commit()
    rows = load_rows(session, scope_for(session, None, baseline_days=30, horizon_hours=24))
    feats = reviewer_features.compute(session, rows, reviewer_features.TextClusters.empty(), bad_max_rating=3)
    assert professional.train(session, db_settings, feats) is None


def test_purchase_delay_cheapest_sku_and_level_features(session, db_settings, world):
    skus = [{"name": "Small / red", "price": 9.9}, {"name": "Large / red", "price": 19.9}]
    lst = world.listing(skus=skus)
    r = world.reviewer(level="铜牌会员")
    world.review(r, lst, 10, 1, TEXTS[0], sku="small / red", raw={"referenceTime": "2026-03-01 16:00:00"})
    world.review(r, lst, 20, 1, TEXTS[1], sku="Small / red", raw={"purchased_at": "2026-03-01T18:00:00+00:00"})
    world.commit()
    rows = load_rows(session, scope_for(session, None, baseline_days=30, horizon_hours=24))
    feats = reviewer_features.compute(session, rows, reviewer_features.TextClusters.empty(), bad_max_rating=3)
    x = dict(zip(reviewer_features.FEATURE_NAMES, feats.X[0], strict=True))
    assert x["cheapest_sku_share"] == 1.0
    # 16:00 Beijing = 08:00 UTC, reviewed 10:00 UTC -> 2 h; second: 18:00 -> 20:00 UTC -> 2 h.
    assert x["purchase_known"] == 1 and x["purchase_to_review_hours"] == pytest.approx(2.0)
    assert x["level_rank"] == 1 and x["level_known"] == 1
    reasons = [r for _, r in professional.facts(feats, 0, bad_max_rating=3)]
    assert "bought the cheapest option in 2 of 2 reviews" in reasons
    assert any(r.startswith("reviewed 2.0 h after purchase") for r in reasons)


@pytest.mark.parametrize(
    ("level", "rank"), [("注册会员", 0), ("PLUS会员", 5), ("Lv3", 3), ("金牌会员", 3), (None, None), ("gold", None)]
)
def test_level_rank(level, rank):
    got = reviewer_features.level_rank(level)
    assert (np.isnan(got) if rank is None else got == rank)


def test_foreign_or_broken_professional_model_falls_back_to_rules(session, db_settings, world, caplog):
    from sklearn.linear_model import LogisticRegression

    from monitor.registry import registry_for

    listings = [world.listing() for _ in range(9)]
    pro = world.reviewer()
    for i, lst in enumerate(listings):
        world.review(pro, lst, i * 5, 1, TEXTS[i])
    world.commit()
    # A model trained on something else (here: two text-ish columns) registered under the name.
    foreign = LogisticRegression().fit(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1]))
    registry = registry_for(db_settings)
    version = registry.save("professional", foreign, metrics={}, params={"features": ["text", "rating"]},
                            thresholds={}, data_fingerprint="sha256:x")
    assert registry.live_version("professional") == version

    behaviour.run(session, db_settings)

    flags = all_flags(session, "professional")
    assert [f.model_version for f in flags] == [professional.RULES_VERSION]
    assert "was not trained on the reviewer features" in caplog.text


def test_a_backlog_is_sliced_oldest_first_without_deleted_reviews(session, world):
    listing = world.listing()
    buyer = world.reviewer()
    hours = [30, 10, 20, 0, 40, 5, 25]
    rows = [world.review(buyer, listing, h, 5) for h in hours]
    world.commit()
    gone = rows[hours.index(20)]
    gone.deleted_at = gone.created_at
    session.add(gone)
    session.commit()
    by_hour = {h: r.id for h, r in zip(hours, rows, strict=True)}
    slices = oldest_first(session, [r.id for r in rows], 2)
    assert [s.tolist() for s in slices] == [
        sorted([by_hour[0], by_hour[5]]), sorted([by_hour[10], by_hour[25]]), sorted([by_hour[30], by_hour[40]])]
    assert oldest_first(session, [], 2) == []


def test_a_scope_reads_its_shops_timelines_from_its_baseline_to_its_newest_review(session, world):
    listing = world.listing()
    buyer = world.reviewer()
    hours = {"old": -31 * 24, "baseline": -29 * 24, "new": 0, "next_day": 23, "later": 25}
    rows = {k: world.review(world.reviewer(), listing, h, 5) for k, h in hours.items()}
    mine = world.review(buyer, listing, 0.5, 1)
    earlier = world.review(buyer, world.listing(), -60 * 24, 1)
    world.commit()
    scope = scope_for(session, [rows["new"].id, mine.id], baseline_days=30, horizon_hours=24)
    got = set(load_rows(session, scope).id.tolist())
    # the authors' whole histories; the shop's 30 days before and a day after, not the month before nor later
    assert got == {rows["baseline"].id, rows["new"].id, rows["next_day"].id, mine.id, earlier.id}


def _rows(ids: list[int], tag: int) -> ReviewRows:
    a = np.asarray(ids, dtype=np.int64)
    return ReviewRows(a, a + tag, a + 2 * tag, a + 3 * tag, a * 10 + tag, np.full(len(a), tag % 5 + 1, dtype=np.int8))


def test_joined_rows_keep_each_review_once_its_first_copy_in_order():
    # A reviewer's history and a shop's timeline overlap: the history's copy is kept, columns aligned.
    joined = ReviewRows.concat([_rows([5, 3, 9], 100), ReviewRows.empty(), _rows([3, 7, 5, 1], 200)])
    assert joined.id.tolist() == [5, 3, 9, 7, 1]
    assert joined.reviewer.tolist() == [105, 103, 109, 207, 201]
    assert joined.t.tolist() == [150, 130, 190, 270, 210]
    assert joined.rating.tolist() == [1, 1, 1, 1, 1] and joined.rating.dtype == np.int8
    plain = ReviewRows.concat([_rows([2, 4], 300), _rows([6], 400)])
    assert plain.id.tolist() == [2, 4, 6] and plain.listing.tolist() == [602, 604, 806]
    assert len(ReviewRows.concat([])) == 0
