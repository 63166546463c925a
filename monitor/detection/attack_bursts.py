"""Burst attacks: more bad reviews in 1, 6 or 24 h than the target's own baseline explains.

Poisson tail against the last 30 days' rate, smoothed towards the target's rate over its whole
stored history so the first days of a newly crawled shop are not "attacks", and Bonferroni-corrected
over the windows tried; the bad share of the window must also be abnormal (binomial test), so a sales
surge with proportionally more complaints does not count.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom, poisson

from monitor.detection.attacks import Attack
from monitor.detection.review_rows import ReviewRows

WINDOWS_H = (1, 6, 24)
BASELINE_DAYS = 30
PRIOR_BAD = 1.0  # at least one bad review ...
PRIOR_HOURS = 7 * 24.0  # ... per week, and a week's worth of prior weight
PRIOR_N = 20  # reviews' worth of weight for the prior bad share
ALPHA = 1e-3  # per target, Bonferroni-corrected over its windows
SHARE_ALPHA = 1e-3
MIN_BURST = 5
MAX_BURSTS = 3


def _fmt_p(p: float) -> str:
    return f"{p:.0e}" if p < 1e-3 else f"{p:.3f}"


def bursts(rows: ReviewRows, bad: np.ndarray, *, focus: np.ndarray | None, level: str) -> list[Attack]:
    """Significant bursts of bad reviews per listing (``level="listing"``) or shop."""
    target_all = rows.listing if level == "listing" else rows.shop
    keep = target_all >= 0
    if not keep.any():
        return []
    tgt, t, isbad, rid = target_all[keep], rows.t[keep], bad[keep], rows.id[keep]
    shop_of = rows.shop[keep]
    order = np.lexsort((t, tgt))
    tgt, t, isbad, rid, shop_of = tgt[order], t[order], isbad[order], rid[order], shop_of[order]
    t0 = int(t.min())
    tidx = np.searchsorted(np.unique(tgt), tgt).astype(np.int64)
    key = tidx * (1 << 34) + (t - t0)
    group_floor = key - (t - t0)
    gstart = np.flatnonzero(np.r_[True, tgt[1:] != tgt[:-1]])
    first_of = np.minimum.reduceat(key, gstart)[tidx]
    last_of = np.maximum.reduceat(key, gstart)[tidx]
    bad_total = np.add.reduceat(isbad.astype(np.int64), gstart)[tidx]
    all_total = np.diff(np.r_[gstart, len(tgt)])[tidx]
    bkey = key[isbad]
    bi = np.flatnonzero(isbad)
    if len(bi) < MIN_BURST:
        return []
    start = bkey
    base_from = np.maximum(start - BASELINE_DAYS * 86400, group_floor[bi])
    base_bad = np.searchsorted(bkey, start, "left") - np.searchsorted(bkey, base_from, "left")
    base_all = np.searchsorted(key, start, "left") - np.searchsorted(key, base_from, "left")
    covered_h = (start - np.maximum(base_from, first_of[bi])) / 3600
    # Tests per target, for a Bonferroni bound: a big shop gets many tries at a fluke.
    n_tests = np.maximum(bad_total[bi] * len(WINDOWS_H), 1)
    found: list[tuple[float, int, int, int, int, float, float, float, float]] = []
    for w in WINDOWS_H:
        end_b = np.searchsorted(bkey, start + w * 3600, "left")
        end_a = np.searchsorted(key, start + w * 3600, "left")
        k = end_b - np.arange(len(bi))
        n = end_a - np.searchsorted(key, start, "left")
        # Where the target's history before the window is short, its whole history outside
        # the window stands in (plus a floor of one bad review a week) as the prior.
        out_h = np.maximum((last_of[bi] - first_of[bi]) / 3600 - w, PRIOR_HOURS)
        prior_rate = np.maximum((bad_total[bi] - k) / out_h, PRIOR_BAD / PRIOR_HOURS)
        prior_share = np.clip((bad_total[bi] - k + PRIOR_BAD) / (all_total[bi] - n + PRIOR_BAD / 0.1), 0.01, 0.99)
        rate = (base_bad + prior_rate * PRIOR_HOURS) / (covered_h + PRIOR_HOURS)
        share0 = (base_bad + prior_share * PRIOR_N) / (base_all + PRIOR_N)
        mu = rate * w
        cand = np.flatnonzero(k >= MIN_BURST)
        if not len(cand):
            continue
        p = poisson.sf(k[cand] - 1, mu[cand])
        ps = binom.sf(k[cand] - 1, n[cand], np.clip(share0[cand], 1e-6, 1 - 1e-6))
        for j in np.flatnonzero((p < ALPHA / n_tests[cand]) & (ps < SHARE_ALPHA)):
            c = cand[j]
            found.append((float(p[j]), int(c), int(end_b[c]), w, int(n[c]), float(rate[c]), float(share0[c]),
                          float(ps[j]), float(k[c])))
    if not found:
        return []
    focus_set = None if focus is None else set(focus.tolist())
    by_target: dict[int, list] = {}
    for f in sorted(found):
        c, e = f[1], f[2]
        target = int(tgt[bi[c]])
        chosen = by_target.setdefault(target, [])
        members = set(rid[bi[c:e]].tolist())
        if len(chosen) >= MAX_BURSTS or any(members & m for _, m, _ in chosen):
            continue
        if focus_set is not None and not members & focus_set:
            continue
        chosen.append((f, members, int(shop_of[bi[c]])))
    attacks = []
    for target, chosen in by_target.items():
        if not chosen:
            continue
        members: set[int] = set()
        reasons = []
        best_p = 1.0
        for (p, c, e, w, n, rate_h, s0, _ps, k), m, _shop in chosen:
            members |= m
            best_p = min(best_p, p)
            reasons.append(
                f"burst: {int(k)} bad reviews in {w} h vs baseline {rate_h:.2g}/h (Poisson p={_fmt_p(p)}); "
                f"{int(k)} of {n} reviews in the window were bad vs {s0:.0%} usually"
            )
        shop = chosen[0][2]
        attacks.append(
            Attack(
                target_type=level,
                target_id=target,
                shop_id=shop if shop >= 0 else None,
                listing_id=target if level == "listing" else None,
                members=sorted(members),
                score=float(1 - best_p),
                reasons=reasons,
            )
        )
    return attacks
