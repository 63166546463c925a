"""The pipeline's stored reputation facts, kept up to date batch by batch, sum to exactly what
the full recompute (``assess_shop``, which re-reads and re-signs every review) says."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from models import Review, ReputationSnapshot, Reviewer
from models.reputation import ReputationFact, ReputationTally
from monitor import outbox
from monitor.reputation.store import assess_shop
from monitor.reputation import facts as fact_upkeep
from monitor.reputation.changed import snapshot_changed
from monitor.reputation.checks import ReviewFact, assess_tally, near_duplicate_ids, tally
from monitor.reputation.tallies import tally_listings, tally_shop
from alerts_testkit import T0, Factory, factory  # noqa: F401

BOTH_DATABASES = True

TEMPLATES = [
    "Fake product total scam do not buy from this shop the seller are cheaters",
    "Arrived quickly and well packed, lovely fresh leaves and a sweet aftertaste",
    "The box was crushed and half the tea leaked out into the parcel, very upset",
]
WORDS = ["tea", "cup", "leaf", "green", "smoky", "bitter", "sweet", "parcel", "seller", "refund", "aroma", "tin",
         "bag", "steep", "brew", "gift", "boss", "milk", "morning", "price"]


def _text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:  # a template, sometimes with a few words swapped: near-duplicates of varying similarity
        words = rng.choice(TEMPLATES).split()
        for _ in range(rng.choice([0, 0, 1, 2, 4])):
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        return " ".join(words)
    if roll < 0.55:
        return rng.choice(["ok", "good tea", "bad"])  # too short to sign
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(6, 14)))


class _World:
    """Random shops changed the ways crawls, detection and analysts change them, each change
    announced in the outbox the way its real writer announces it."""

    def __init__(self, factory: Factory, seed: int) -> None:
        self.rng = random.Random(seed)
        self.f = factory
        self.session = factory.session
        self.shops = [factory.shop(name=f"shop {i}") for i in range(2)]
        self.listings = [factory.listing(s, title=f"item {s.id}-{j}") for s in self.shops for j in range(3)]
        self.reviewers = [factory.reviewer(f"u{i}") for i in range(12)]  # few: accounts repeat across shops
        self.reviews: list[Review] = []
        self.flags = []

    def add_review(self) -> Review:
        rng = self.rng
        listing = rng.choice(self.listings)
        reviewer: Reviewer | None = rng.choice(self.reviewers) if rng.random() < 0.9 else None
        at = T0 + timedelta(days=rng.randrange(8), hours=rng.randrange(24))
        review = Review(platform="taobao", external_id=f"r{len(self.reviews)}-{rng.random()}", listing_id=listing.id,
                        shop_id=listing.shop_id, reviewer_id=reviewer.id if reviewer else None,
                        rating=rng.choice([1, 1, 2, 3, 4, 5, 5, 5, None]), text=_text(rng), created_at=at,
                        first_seen=at, last_seen=at)
        self.session.add(review)
        self.session.flush()
        self.reviews.append(review)
        return review

    def batch(self) -> None:
        rng = self.rng
        changed: set[int] = set()
        listing_only: set[int] = set()
        flags: set[int] = set()
        for _ in range(rng.randrange(3, 12)):
            review = self.add_review()
            # Mostly as detection announces it (the review); sometimes only its listing.
            (listing_only.add(review.listing_id) if rng.random() < 0.1 else changed.add(review.id))
        for review in rng.sample(self.reviews, min(len(self.reviews), rng.randrange(0, 4))):
            what = rng.choice(["edit", "delete", "unrate", "move", "restore"])
            if what == "edit":
                review.text, review.rating = _text(rng), rng.choice([1, 3, 5])
                review.revision_count += 1
            elif what == "delete":
                review.deleted_at = T0 + timedelta(days=9)
            elif what == "unrate":
                review.rating = None
                review.revision_count += 1
            elif what == "move":
                review.listing_id = rng.choice([x.id for x in self.listings if x.shop_id == review.shop_id])
            else:
                review.deleted_at = None
                review.revision_count += 1
            self.session.add(review)
            changed.add(review.id)  # type: ignore[arg-type]
        for _ in range(rng.randrange(0, 3)):
            kind = rng.choice(["malicious", "deceptive", "attack", "professional", "reject"])
            live = [r for r in self.reviews if r.deleted_at is None]
            if kind == "reject" and self.flags:
                flag = rng.choice(self.flags)
                flag.status = "rejected" if flag.status != "rejected" else "confirmed"
                self.session.add(flag)
            elif kind == "attack" and live:
                members = [r.id for r in rng.sample(live, min(len(live), 4))]
                # One attack flag per listing (a flag's key): later attacks land on other listings.
                used = {f.target_id for f in self.flags if f.kind == "attack"}
                free = [x for x in self.listings if x.id not in used]
                if not free:
                    continue
                flag = self.f.flag("attack", target_type="listing", target_id=free[0].id, members=members)
            elif kind == "professional":
                who = rng.choice(self.reviewers)
                if any(f.kind == "professional" and f.target_id == who.id for f in self.flags):
                    continue
                flag = self.f.flag("professional", target_type="reviewer", target_id=who.id)
            elif live:
                target = rng.choice(live)
                if any(f.kind == kind and f.target_id == target.id for f in self.flags):
                    continue
                flag = self.f.flag(kind, target_type="review", target_id=target.id, review_id=target.id)
            else:
                continue
            self.flags.append(flag)
            flags.add(flag.id)
        self.session.flush()
        outbox.record(self.session, "reputation", "review", changed)
        outbox.record(self.session, "reputation", "listing", listing_only)
        outbox.record(self.session, "reputation", "flag", flags)


def _as_stored(verdict) -> dict:  # noqa: ANN001
    return json.loads(json.dumps(verdict.as_dict()))


def _assert_facts_equal_full_recompute(session, settings, world: _World) -> None:  # noqa: ANN001
    for shop in world.shops:
        full_shop, full_listings = assess_shop(session, settings, shop, [x.id for x in world.listings
                                                                          if x.shop_id == shop.id])
        assert assess_tally(tally_shop(session, shop.id)).as_dict() == full_shop.as_dict()
        summed = tally_listings(session, full_listings)
        assert {lid: assess_tally(t).as_dict() for lid, t in summed.items()} == \
            {lid: v.as_dict() for lid, v in full_listings.items()}


def _assert_tallies_count_the_facts(session) -> None:  # noqa: ANN001
    """Every tally row is its group's count of the facts, and no group has a row it does not fill
    (a row emptied by marks moving out of it is gone, as a recount leaves it)."""
    want: dict[tuple, list[int]] = {}
    for f in session.exec(select(ReputationFact)):
        for scope, target, dup in (("shop", f.shop_id, f.dup_shop), ("listing", f.listing_id, f.dup_listing)):
            if target is None:
                continue
            row = want.setdefault((scope, target, f.day, f.removed, bool(f.once), bool(dup), bool(f.professional)),
                                  [f.shop_id, 0, 0])
            row[1] += 1
            row[2] += f.rating
    have = {(t.scope, t.target_id, t.day, t.removed, bool(t.once), bool(t.dup), bool(t.professional)):
            [t.shop_id, t.n, t.rating_sum] for t in session.exec(select(ReputationTally))}
    assert have == want


@pytest.mark.parametrize("update_slice", [None, 3], ids=["one-slice", "slices-of-3"])
def test_incremental_facts_equal_the_full_recompute_after_every_batch(session, factory, db_settings, update_slice,
                                                                     monkeypatch):
    if update_slice:  # a batch's changed reviews brought up to date a few at a time, as separate runs would
        monkeypatch.setattr(fact_upkeep, "UPDATE_SLICE", update_slice)
    for seed in range(1 if update_slice else 3):  # one world shows the slices add up
        world = _World(factory, seed)
        for _ in range(12):
            world.batch()
            session.commit()
            since = session.exec(select(ReputationSnapshot.id).order_by(ReputationSnapshot.id.desc())).first() or 0
            snapshot_changed(session, db_settings, now=T0 + timedelta(days=10))
            session.commit()
            _assert_facts_equal_full_recompute(session, db_settings, world)
            _assert_tallies_count_the_facts(session)
            # And every row the step wrote says what the full recompute says.
            for row in session.exec(select(ReputationSnapshot).where(ReputationSnapshot.id > since)):
                shop = next(s for s in world.shops if s.id == row.shop_id)
                full_shop, full_listings = assess_shop(session, db_settings, shop, [row.target_id])
                want = _as_stored(full_shop if row.scope == "shop" else full_listings[row.target_id])
                assert {k: getattr(row, k) for k in want} == want


def test_near_duplicates_are_pairs_of_accounts_not_chains():
    base = "Fake product total scam do not buy from this shop the seller are cheaters"
    words = base.split()
    close = " ".join(words[:-2] + ["tea", "cup"])  # similar to base
    facts = [
        ReviewFact(id=1, rating=1, posted=T0, reviewer_id=7, text=base),
        ReviewFact(id=2, rating=1, posted=T0, reviewer_id=7, text=base),  # the same account again: no template
        ReviewFact(id=3, rating=5, posted=T0, reviewer_id=8, text="Arrived quickly and well packed, lovely leaves"),
    ]
    assert near_duplicate_ids(facts) == set()
    facts.append(ReviewFact(id=4, rating=1, posted=T0, reviewer_id=9, text=close))
    assert near_duplicate_ids(facts) == {1, 2, 4}
    assert tally(facts, ZoneInfo("UTC")).near_duplicates == 3
