"""Reviewer and attack detection: the entry point ``detect()`` calls after the text models.

Writes ``Flag`` rows itself, idempotently (one row per kind, target and model version;
a re-run updates it): ``professional`` and ``watchlist`` on reviewers, ``attack`` on
listings or shops with the member review ids. It never commits: the caller's session does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from sqlmodel import Session, func, select

from models import Flag, Review, Reviewer, utcnow
from monitor.config import Settings
from monitor import outbox
from monitor.detection import attack_bursts, attacks, neighbours, professional, reviewer_features, watchlist
from monitor.detection.review_rows import ReviewRows, Scope, load_rows, reviewer_rows, scope_for
from monitor.detection.flag_writer import MAX_REASONS, FlagWriter
from monitor.detection.reviewer_features import TextClusters

log = logging.getLogger(__name__)

WATCHLIST_VERSION = "watchlist-1"


def run(
    session: Session,
    settings: Settings,
    *,
    now: datetime | None = None,
    review_ids: Sequence[int] | None = None,
) -> dict[str, int]:
    """Score reviewers and look for attacks around ``review_ids`` (None: the whole database).

    Returns counts: new flags per kind, flags updated, reviewers scored.
    """
    now = now or utcnow()
    bad_max = settings.detection.case_max_rating
    scope = scope_for(session, review_ids, baseline_days=attack_bursts.BASELINE_DAYS,
                      horizon_hours=max(attack_bursts.WINDOWS_H))
    rows = load_rows(session, scope)
    bad = rows.bad(bad_max)
    if scope.everything:
        clusters = reviewer_features.text_clusters(session, rows, bad)
        neighbours.rebuild(session, clusters)
        examined = None
    else:
        rows, bad, clusters, examined = _neighbourhood(session, scope, rows, bad_max)
    feats = reviewer_features.compute(session, rows, clusters, bad_max_rating=bad_max, reviewer_ids=examined)
    writer = FlagWriter(session, now)

    scored = professional.score(session, settings, feats)
    latest = _latest_bad(rows, bad, feats.reviewer_ids)
    hits = np.flatnonzero(scored.scores >= scored.threshold)
    writer.prefetch("professional", "reviewer", scored.model_version, feats.reviewer_ids[hits].tolist())
    for i in hits:
        rid = int(feats.reviewer_ids[i])
        review_id, listing_id, shop_id = latest.get(rid, (None, None, None))
        writer.put(
            kind="professional", target_type="reviewer", target_id=rid, model_version=scored.model_version,
            score=float(scored.scores[i]), reasons=scored.reasons[i], reviewer_id=rid,
            review_id=review_id, listing_id=listing_id, shop_id=shop_id,
        )

    names = _Nicks(session)
    # Bursts are judged on complete timelines only: the scope's shops and listings since the
    # baseline start, not the fragments of other shops that reviewers' histories drag in
    # (and it keeps the arrays small).
    local = _timelines(rows, scope)
    local = local[~_earlier_attacks(session, rows.take(local), scope)]
    trows, tbad = rows.take(local), bad[local]
    found = attack_bursts.bursts(trows, tbad, focus=scope.review_ids, level="listing")
    found += attack_bursts.bursts(trows, tbad, focus=scope.review_ids, level="shop")
    found += attacks.linked_texts(clusters, focus=scope.review_ids, names=names)
    found += attacks.linked_listings(trows, tbad, focus=scope.review_ids, names=names)
    for a in attacks.merge(found):
        before = writer.find("attack", a.target_type, a.target_id, attacks.MODEL_VERSION)
        gap = _quiet_days(session, before.members, a.members) if before is not None else None
        incident = before.incident if before is not None else 0
        writer.put(
            kind="attack", target_type=a.target_type, target_id=a.target_id,
            model_version=attacks.MODEL_VERSION, score=a.score, reasons=a.reasons, members=a.members,
            listing_id=a.listing_id, shop_id=a.shop_id,
        )
        if gap is not None and gap > attacks.INCIDENT_GAP_DAYS:
            # A burst weeks after the last one is a new attack on the same target: the flag
            # counts it so the alert rules send it as news instead of folding it into the old one.
            flag = writer.find("attack", a.target_type, a.target_id, attacks.MODEL_VERSION)
            flag.incident = incident + 1
            flag.reasons = [f"new attack {gap:.0f} days after the previous one on this target "
                            f"(incident {flag.incident + 1})", *flag.reasons][:MAX_REASONS]
            flag.status = "open"
            session.add(flag)
            writer.changed.add(flag.id)

    watched = watchlist.watched(session, settings, None if scope.everything else scope.reviewers.tolist())
    writer.prefetch("watchlist", "reviewer", WATCHLIST_VERSION, [r.id for r in watched])
    watched_bad = _latest_bad(rows, bad, np.array([r.id for r in watched], dtype=np.int64))
    for reviewer in watched:
        history = _history(rows, bad, reviewer.id)
        if history is None:
            continue  # no stored review: nothing here to warn about yet
        reason = (f"on the analysts' watchlist: {reviewer.watch_note}" if reviewer.watch_note
                  else "on the analysts' watchlist" if reviewer.watchlisted
                  else "listed in detection.watchlist in the configuration")
        n, n_bad, last_t, listing_id, shop_id = history
        bad_review = watched_bad.get(reviewer.id, (None,))[0]
        writer.put(
            kind="watchlist", target_type="reviewer", target_id=reviewer.id, model_version=WATCHLIST_VERSION,
            score=1.0, reviewer_id=reviewer.id, review_id=bad_review, listing_id=listing_id, shop_id=shop_id,
            reasons=[reason, f"posted {n} reviews here ({n_bad} bad), latest on "
                             f"{datetime.fromtimestamp(last_t, UTC):%Y-%m-%d %H:%M} UTC"],
        )
    session.flush()
    outbox.record(session, "cases", "flag", writer.changed)
    outbox.record(session, "reputation", "flag", writer.changed)  # attack members and professionals leave ratings
    counts = {
        "professional": writer.new.get("professional", 0),
        "attack": writer.new.get("attack", 0),
        "watchlist": writer.new.get("watchlist", 0),
        "behaviour_flags_updated": writer.updated,
        "reviewers_scored": int(len(feats.reviewer_ids)),
    }
    log.info("behaviour %s", counts)
    return counts


def _neighbourhood(session: Session, scope: Scope, rows: ReviewRows,
                   bad_max: int) -> tuple[ReviewRows, np.ndarray, TextClusters, np.ndarray]:
    """Rows, clusters and the reviewers to examine for a run over some new reviews.

    Whoever's history changed is examined, and so is every account whose text cluster gained
    one of the new reviews, in any shop: its template count changed although it posted nothing
    new. Clusters are the stored ones, kept for the whole database, so the outcome does not
    depend on which shop was crawled first.
    """
    bad = rows.bad(bad_max)
    neighbours.sign(session, scope.review_ids, np.isin(scope.review_ids, rows.id[bad]), bad_max=bad_max,
                    threshold=reviewer_features.TEMPLATE_SIMILARITY)
    examined = scope.reviewers
    while True:
        seeds = np.union1d(rows.id[bad & np.isin(rows.reviewer, examined)], scope.review_ids)
        clusters = neighbours.clusters_of(session, seeds, bad_max=bad_max)
        touched = np.unique(clusters.label[np.isin(clusters.rows.id, scope.review_ids) & (clusters.label >= 0)])
        peers = clusters.rows.reviewer[np.isin(clusters.label, touched) & (clusters.label >= 0)]
        extra = np.setdiff1d(peers[peers >= 0], examined)
        if not len(extra):
            return rows, bad, clusters, examined
        # Their other bad reviews' clusters count too (the largest one is their template feature).
        examined = np.union1d(examined, extra)
        rows = ReviewRows.concat([rows, reviewer_rows(session, extra)])
        bad = rows.bad(bad_max)


def _earlier_attacks(session: Session, rows: ReviewRows, scope: Scope) -> np.ndarray:
    """Rows that belong to an earlier attack (a flag analysts have not rejected), dated more than
    ``INCIDENT_GAP_DAYS`` before the new reviews. They are left out of the burst baseline: a shop's
    normal rate of bad reviews is not the rate it had while it was under attack, and counting the
    last attack would hide the next one. Later members stay, so an attack still in progress grows."""
    out = np.zeros(len(rows), dtype=bool)
    if scope.everything or scope.review_ids is None or not len(scope.review_ids) or not len(rows):
        return out
    new_t = rows.t[np.isin(rows.id, scope.review_ids)]
    if not len(new_t):
        return out
    members = [m for ms in session.exec(
        select(Flag.members).where(Flag.kind == "attack", Flag.status != "rejected")).all() for m in ms]
    if not members:
        return out
    cutoff = int(new_t.min()) - attacks.INCIDENT_GAP_DAYS * 86400
    return np.isin(rows.id, np.asarray(members, dtype=np.int64)) & (rows.t < cutoff)


def _timelines(rows: ReviewRows, scope: Scope) -> np.ndarray:
    """Indices of the rows that belong to the scope's shops and listings within its time range
    (the reviewers' histories bring rows from outside it, which would make a timeline partial)."""
    if scope.everything:
        return np.arange(len(rows))
    mine = np.isin(rows.shop, scope.shops) | ((rows.shop < 0) & np.isin(rows.listing, scope.listings))
    mine &= rows.t >= (scope.since or 0)
    if scope.until is not None:
        mine &= rows.t <= scope.until
    return np.flatnonzero(mine)


def _quiet_days(session: Session, old: list[int], new: list[int]) -> float | None:
    """Days between the newest of ``old`` member reviews and the oldest review of ``new`` that is
    not already a member (None when nothing is new)."""
    added = set(new) - set(old)
    if not old or not added:
        return None
    when = func.coalesce(Review.created_at, Review.first_seen)
    times = dict(session.exec(select(Review.id, when).where(Review.id.in_(sorted(set(old) | added)))).all())
    old_t = [times[i] for i in old if times.get(i) is not None]
    new_t = [times[i] for i in added if times.get(i) is not None]
    if not old_t or not new_t:
        return None
    return (min(new_t) - max(old_t)).total_seconds() / 86400


def _latest_bad(rows: ReviewRows, bad: np.ndarray, reviewer_ids: np.ndarray) -> dict[int, tuple[int | None, int | None, int | None]]:
    """reviewer -> (review, listing, shop) of their latest bad review.

    Without a bad review the review is None (cases open for bad reviews, never for praise) and
    listing and shop come from the latest review.
    """
    out: dict[int, tuple[int | None, int | None, int | None]] = {}
    if not len(reviewer_ids):
        return out
    sel = np.flatnonzero(np.isin(rows.reviewer, reviewer_ids))
    # Sorting by (reviewer, bad, time) puts the wanted review last in each reviewer's run.
    order = sel[np.lexsort((rows.t[sel], bad[sel], rows.reviewer[sel]))]
    last = order[np.r_[rows.reviewer[order][1:] != rows.reviewer[order][:-1], True]]
    for i in last:
        out[int(rows.reviewer[i])] = (
            int(rows.id[i]) if bad[i] else None,
            int(rows.listing[i]) if rows.listing[i] >= 0 else None,
            int(rows.shop[i]) if rows.shop[i] >= 0 else None,
        )
    return out


def _history(rows: ReviewRows, bad: np.ndarray, reviewer_id: int) -> tuple | None:
    idx = np.flatnonzero(rows.reviewer == reviewer_id)
    if not len(idx):
        return None
    last = idx[np.argmax(rows.t[idx])]
    return (
        len(idx),
        int(bad[idx].sum()),
        int(rows.t[last]),
        int(rows.listing[last]) if rows.listing[last] >= 0 else None,
        int(rows.shop[last]) if rows.shop[last] >= 0 else None,
    )


class _Nicks(dict):
    """Nicknames (or external ids) of the accounts attack reasons name, looked up on first use."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def __missing__(self, reviewer_id: int) -> str:
        row = self.session.execute(
            select(Reviewer.nick, Reviewer.external_id).where(Reviewer.id == reviewer_id)
        ).first()
        name = (row[0] or row[1]) if row else "?"
        self[reviewer_id] = name
        return name
