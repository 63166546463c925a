"""Coordinated attacks: templates across accounts, bursts against the baseline, shared listings."""

from __future__ import annotations

import random

import pytest
from sqlmodel import select

from models import Flag
from monitor.detection import behaviour

VOCAB = (
    "strap bag colour wrong late box broken smell cheap thin size small large zipper stitch fabric button "
    "leather loose torn refund seller reply slow delivery courier dirty scratch faded heavy light handle "
    "pocket lining strong weak glue cracked sharp edge missing screw manual battery charger cable plug"
).split()


def varied_text(rng: random.Random) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(14))


def background(world, rng: random.Random, *, days: int = 30, per_day: int = 6, bad_share: float = 0.15):
    """A normal month: steady reviews, some bad, every text different."""
    listings = [world.listing() for _ in range(3)]
    step = 24 / per_day
    for k in range(days * per_day):
        rating = 1 if rng.random() < bad_share else 5
        world.review(world.reviewer(), rng.choice(listings), k * step + rng.random() * step, rating,
                     varied_text(rng))
    return listings


def flags(session, kind: str) -> list[Flag]:
    return list(session.exec(select(Flag).where(Flag.kind == kind).order_by(Flag.id)))


TEMPLATES = {
    "zh": "质量太差了，穿了一次就开线，客服态度恶劣还不给退款，大家千万别买，骗子店铺！",
    "en": "Terrible quality, the seams split after one wear and support refused a refund. Do not buy, scam shop!",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ten_accounts_posting_one_template_within_an_hour_are_linked(session, db_settings, world, lang):
    rng = random.Random(1)
    listings = background(world, rng)
    gang = [world.reviewer(nick=f"{lang}-buyer{i}") for i in range(10)]
    posted = []
    for i, r in enumerate(gang):
        # Small edits (punctuation, an order number, case) must not hide the template.
        text = TEMPLATES[lang] + ("!" * (i % 3)) + f" #{1000 + i}"
        text = text.upper() if i == 3 else text
        posted.append(world.review(r, listings[i % 2], 24 * 31 + i * 5 / 60, 1, text))
    world.commit()

    counts = behaviour.run(session, db_settings)
    session.commit()

    attacks = flags(session, "attack")
    linked = [a for a in attacks if any("near-identical text" in r for r in a.reasons)]
    assert len(linked) == 1
    attack = linked[0]
    assert set(attack.members) == {p.id for p in posted}
    reason = next(r for r in attack.reasons if "near-identical" in r)
    assert reason.startswith("10 accounts posted near-identical text")
    assert "within 1 h" in reason
    for r in gang:  # the reason names every linked account
        assert f"{r.nick} (id {r.id})" in reason
    assert attack.target_type == "shop" and attack.shop_id == world.shop.id  # two listings hit
    assert attack.model_version == "attacks-1" and 0 < attack.score <= 1

    pros = {f.target_id: f for f in flags(session, "professional")}
    assert set(pros) == {r.id for r in gang}
    assert counts["professional"] == 10
    some = pros[gang[0].id]
    assert any(x.startswith("text ") and "similar to 9 other reviewers" in x for x in some.reasons)
    assert some.reviewer_id == gang[0].id and some.review_id == posted[0].id


def test_same_template_spread_over_months_is_not_an_attack(session, db_settings, world):
    listing = world.listing()
    for i in range(4):
        world.review(world.reviewer(), listing, i * 24 * 30, 1, TEMPLATES["en"])
    world.commit()
    behaviour.run(session, db_settings)
    assert flags(session, "attack") == []


def test_normal_trickle_of_bad_reviews_is_not_an_attack(session, db_settings, world):
    rng = random.Random(7)
    # Forty days, twelve reviews a day, a fifth of them bad: ~96 bad reviews, none coordinated.
    background(world, rng, days=40, per_day=12, bad_share=0.2)
    world.commit()
    counts = behaviour.run(session, db_settings)
    assert flags(session, "attack") == []
    assert counts["attack"] == 0


def test_burst_of_bad_reviews_is_an_attack_with_its_members(session, db_settings, world):
    rng = random.Random(7)
    listings = background(world, rng, days=40, per_day=12, bad_share=0.2)
    burst = [world.review(world.reviewer(), listings[1], 24 * 41 + i * 4 / 60, 1, varied_text(rng))
             for i in range(12)]
    world.commit()

    behaviour.run(session, db_settings)

    attacks = flags(session, "attack")
    on_listing = [a for a in attacks if a.target_type == "listing" and a.target_id == listings[1].id]
    assert len(on_listing) == 1
    a = on_listing[0]
    assert {b.id for b in burst} <= set(a.members)
    assert len(a.members) <= 14  # the burst, at most a trickle review that fell in the same hour
    assert any(r.startswith("burst: 12 bad reviews in 1 h vs baseline") and "Poisson p=" in r for r in a.reasons)
    assert a.listing_id == listings[1].id and a.shop_id == world.shop.id
    # The shop-level burst only repeats the listing's: no second flag for the same reviews.
    assert [x for x in attacks if x.target_type == "shop"] == []


def test_sales_surge_with_proportional_complaints_is_not_an_attack(session, db_settings, world):
    rng = random.Random(3)
    listings = background(world, rng, days=30, per_day=10, bad_share=0.1)
    # A promotion day: 200 reviews in 6 hours, the usual one in ten bad.
    for i in range(200):
        world.review(world.reviewer(), listings[0], 24 * 31 + i * 6 / 200, 1 if i % 10 == 0 else 5,
                     varied_text(rng))
    world.commit()
    behaviour.run(session, db_settings)
    assert flags(session, "attack") == []


def test_accounts_hitting_the_same_listings_together_are_linked(session, db_settings, world):
    rng = random.Random(11)
    listings = background(world, rng, days=30, per_day=4, bad_share=0.1)
    extra = [world.listing() for _ in range(2)]
    gang = [world.reviewer(nick=f"ring{i}") for i in range(4)]
    posted = []
    for i, r in enumerate(gang):
        for j, lst in enumerate([listings[0], *extra]):
            # Spread over two days: too slow for a burst, too coordinated for chance.
            posted.append(world.review(r, lst, 24 * 31 + i * 11 + j * 3, 2, varied_text(rng)))
    world.commit()

    behaviour.run(session, db_settings)

    attacks = [a for a in flags(session, "attack") if any("same 3 listings" in r for r in a.reasons)]
    assert len(attacks) == 1
    a = attacks[0]
    assert a.target_type == "shop" and a.target_id == world.shop.id
    assert set(a.members) == {p.id for p in posted}
    reason = next(r for r in a.reasons if "same 3 listings" in r)
    assert reason.startswith("4 accounts left bad reviews on the same 3 listings within")
    assert all(f"ring{i} (id {g.id})" in reason for i, g in enumerate(gang))


def test_scoped_run_only_reports_attacks_touching_the_new_reviews(session, db_settings, world):
    rng = random.Random(5)
    listings = background(world, rng, days=20, per_day=6)
    old = [world.review(world.reviewer(), listings[0], 24 * 21 + i / 60, 1, varied_text(rng)) for i in range(8)]
    new = world.review(world.reviewer(), listings[2], 24 * 25, 5, varied_text(rng))
    world.commit()

    counts = behaviour.run(session, db_settings, review_ids=[new.id])
    assert counts["attack"] == 0 and counts["reviewers_scored"] == 1

    counts = behaviour.run(session, db_settings, review_ids=[old[0].id])
    assert counts["attack"] == 1
    assert set(flags(session, "attack")[0].members) >= {o.id for o in old}


def test_detect_runs_behaviour_on_the_reviews_it_scored(session, db_settings, world):
    from monitor.detection import detect

    rng = random.Random(2)
    listing = world.listing()
    gang = [world.reviewer() for _ in range(5)]
    for i, r in enumerate(gang):
        world.review(r, listing, i / 10, 1, TEMPLATES["en"])
    world.review(world.reviewer(), listing, 30, 5, varied_text(rng))
    world.commit()

    summary = detect(session, db_settings).as_dict()
    session.commit()

    assert summary["attack"] == 1 and summary["professional"] == 5
    attack = flags(session, "attack")[0]
    assert attack.target_type == "listing" and len(attack.members) == 5
    # Nothing new to score: the second pass leaves behaviour alone and duplicates nothing.
    again = detect(session, db_settings).as_dict()
    assert again.get("attack", 0) == 0 and len(flags(session, "attack")) == 1



def test_template_across_two_shops_is_one_attack_per_shop_listing(session, db_settings, world):
    from models import Shop

    other = Shop(platform="taobao", external_id="shop-2")
    session.add(other)
    session.flush()
    here, there = world.listing(), world.listing()
    there.shop_id = other.id
    session.add(there)
    posted = {here.id: [], there.id: []}
    for i in range(8):
        lst = here if i % 2 else there
        rev = world.review(world.reviewer(), lst, i / 10, 1, TEMPLATES["zh"])
        rev.shop_id = lst.shop_id
        posted[lst.id].append(rev)
    world.commit()

    behaviour.run(session, db_settings)

    linked = {(a.target_type, a.target_id): a for a in flags(session, "attack")
              if any("near-identical" in r for r in a.reasons)}
    assert set(linked) == {("listing", here.id), ("listing", there.id)}
    assert set(linked[("listing", there.id)].members) == {r.id for r in posted[there.id]}
    assert linked[("listing", there.id)].shop_id == other.id
