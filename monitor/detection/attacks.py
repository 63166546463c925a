"""Coordinated attacks on a shop or listing.

Three detectors, each giving groups of member reviews with reasons (``Attack``), merged here:

* bursts: more bad reviews in a short window than the target's own baseline explains
  (``monitor.detection.attack_bursts``);
* linked texts: three or more accounts posting near-identical bad reviews close in time
  (MinHash clusters from ``reviewer_features.text_clusters``);
* linked accounts: three or more accounts whose bad reviews hit the same listings in the
  same short window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from monitor.detection.review_rows import ReviewRows
from monitor.detection.reviewer_features import TextClusters

MODEL_VERSION = "attacks-1"
# New member reviews this long after an attack flag's newest one are a separate attack (alerted again).
INCIDENT_GAP_DAYS = 7
MIN_LINKED = 3
LINK_WINDOW_H = 72
# A listing with more bad reviewers than this in one window is a burst, and pairing all of
# them would be quadratic.
MAX_ITEM_REVIEWERS = 500


@dataclass
class Attack:
    target_type: str
    target_id: int
    shop_id: int | None
    listing_id: int | None
    members: list[int]
    score: float
    reasons: list[str]
    reviewers: list[int] = field(default_factory=list)


def _fmt_hours(h: float) -> str:
    return f"{h:.0f} h" if h < 48 else f"{h / 24:.0f} days"


def _split_by_target(rows: ReviewRows, idx: np.ndarray) -> list[tuple[str, int, np.ndarray]]:
    """Per shop: its one listing when every member review is there, else the shop itself."""
    out = []
    for shop in np.unique(rows.shop[idx]):
        part = idx[rows.shop[idx] == shop]
        listings = np.unique(rows.listing[part])
        if len(listings) == 1 and listings[0] >= 0:
            out.append(("listing", int(listings[0]), part))
        elif shop >= 0:
            out.append(("shop", int(shop), part))
    return out


def _accounts(rows: ReviewRows, idx: np.ndarray) -> int:
    known = rows.reviewer[idx]
    return len(np.unique(known[known >= 0])) + int((known < 0).sum())


def _make(rows: ReviewRows, target: tuple[str, int, np.ndarray], score: float, reason: str) -> Attack:
    level, tid, idx = target
    shops = rows.shop[idx]
    shop = int(np.bincount(shops[shops >= 0]).argmax()) if (shops >= 0).any() else None
    reviewers = sorted({int(r) for r in rows.reviewer[idx] if r >= 0})
    return Attack(
        target_type=level,
        target_id=tid,
        shop_id=shop if level == "listing" else tid,
        listing_id=tid if level == "listing" else None,
        members=sorted(int(i) for i in rows.id[idx]),
        score=score,
        reasons=[reason],
        reviewers=reviewers,
    )


def linked_texts(clusters: TextClusters, *, focus: np.ndarray | None, names: Mapping[int, str]) -> list[Attack]:
    """Near-identical bad reviews from MIN_LINKED+ accounts, split where the gap exceeds LINK_WINDOW_H."""
    rows, lab = clusters.rows, clusters.label
    ok = np.flatnonzero(lab >= 0)
    if not len(ok):
        return []
    order = ok[np.lexsort((rows.t[ok], lab[ok]))]
    lab_s, t_s = lab[order], rows.t[order]
    new_group = np.r_[True, (lab_s[1:] != lab_s[:-1]) | (np.diff(t_s) > LINK_WINDOW_H * 3600)]
    bounds = np.r_[np.flatnonzero(new_group), len(order)]
    focus_set = None if focus is None else set(focus.tolist())
    attacks = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        idx = order[a:b]
        if _accounts(rows, idx) < MIN_LINKED:
            continue
        if focus_set is not None and not focus_set & set(rows.id[idx].tolist()):
            continue
        for target in _split_by_target(rows, idx):
            sub = target[2]
            n_acc = _accounts(rows, sub)
            if n_acc < MIN_LINKED:
                continue
            sim = float(clusters.similarity[sub].mean())
            span_h = (rows.t[sub].max() - rows.t[sub].min()) / 3600
            when = "within 1 h" if span_h <= 1 else f"within {_fmt_hours(span_h)}"
            who = _who(rows.reviewer[sub], names)
            reason = f"{n_acc} accounts posted near-identical text ({sim:.2f} similar) {when}: {who}"
            attacks.append(_make(rows, target, min(1.0, sim), reason))
    return attacks


def linked_listings(rows: ReviewRows, bad: np.ndarray, *, focus: np.ndarray | None,
                    names: Mapping[int, str]) -> list[Attack]:
    """Accounts whose bad reviews hit the same 2+ listings within LINK_WINDOW_H, MIN_LINKED+ of them."""
    sel = np.flatnonzero(bad & (rows.reviewer >= 0) & (rows.listing >= 0))
    if len(sel) < MIN_LINKED * 2:
        return []
    width = LINK_WINDOW_H * 3600
    focus_set = None if focus is None else set(focus.tolist())
    attacks: dict[tuple[str, int], Attack] = {}
    # Two bin offsets so a pair straddling a bin edge is still seen together once.
    for offset in (0, width // 2):
        item_key = rows.listing[sel] * 1_000_003 + (rows.t[sel] + offset) // width
        items, item_idx = np.unique(item_key, return_inverse=True)
        revs, rev_idx = np.unique(rows.reviewer[sel], return_inverse=True)
        R = csr_matrix((np.ones(len(sel), dtype=np.int32), (rev_idx, item_idx)), shape=(len(revs), len(items)))
        R.data[:] = 1
        R.sum_duplicates()
        R.data[:] = 1
        per_item = np.asarray(R.sum(axis=0)).ravel()
        R = R[:, np.flatnonzero((per_item >= 2) & (per_item <= MAX_ITEM_REVIEWERS))]
        active = np.flatnonzero(np.asarray(R.sum(axis=1)).ravel() >= 2)
        if len(active) < MIN_LINKED:
            continue
        Ra = R[active]
        shared = (Ra @ Ra.T).tocoo()
        strong = (shared.row != shared.col) & (shared.data >= 2)
        if not strong.any():
            continue
        g = coo_matrix((np.ones(strong.sum()), (shared.row[strong], shared.col[strong])),
                       shape=(len(active), len(active)))
        n_comp, comp = connected_components(g, directed=False)
        sizes = np.bincount(comp, minlength=n_comp)
        for c in np.flatnonzero(sizes >= MIN_LINKED):
            members_rev = revs[active[comp == c]]
            # Member reviews: bad reviews by these accounts on listings that 2+ of them hit.
            in_group = np.isin(rows.reviewer[sel], members_rev)
            lk = item_key[in_group]
            ukeys, cnt = np.unique(lk, return_counts=True)
            hot = ukeys[cnt >= 2]
            idx = sel[in_group][np.isin(lk, hot)]
            if focus_set is not None and not focus_set & set(rows.id[idx].tolist()):
                continue
            for target in _split_by_target(rows, idx):
                if target[0] == "listing" or _accounts(rows, target[2]) < MIN_LINKED:
                    continue
                n_listings = len(np.unique(rows.listing[target[2]]))
                span_h = (rows.t[target[2]].max() - rows.t[target[2]].min()) / 3600
                who = _who(rows.reviewer[target[2]], names)
                reason = (f"{_accounts(rows, target[2])} accounts left bad reviews on the same "
                          f"{n_listings} listings within {_fmt_hours(max(span_h, 1))}: {who}")
                att = _make(rows, target, 0.9, reason)
                key = (att.target_type, att.target_id)
                if key not in attacks or len(att.members) > len(attacks[key].members):
                    attacks[key] = att
    return list(attacks.values())


def _who(reviewers: np.ndarray, names: Mapping[int, str], limit: int = 10) -> str:
    ids = sorted({int(r) for r in reviewers if r >= 0})
    shown = [f"{names[r]} (id {r})" for r in ids[:limit]]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(shown) + more


def merge(attacks: list[Attack]) -> list[Attack]:
    """One attack per target: members united, reasons kept, the highest score."""
    out: dict[tuple[str, int], Attack] = {}
    for a in attacks:
        key = (a.target_type, a.target_id)
        if key not in out:
            out[key] = Attack(a.target_type, a.target_id, a.shop_id, a.listing_id, list(a.members), a.score,
                              list(a.reasons), list(a.reviewers))
            continue
        m = out[key]
        m.members = sorted(set(m.members) | set(a.members))
        m.reviewers = sorted(set(m.reviewers) | set(a.reviewers))
        m.reasons += [r for r in a.reasons if r not in m.reasons]
        m.score = max(m.score, a.score)
    # A shop-level attack (nearly) inside one listing's attack only repeats it: fold it in, so the
    # same reviews do not raise two alerts. One spanning several listings is the news, kept.
    kept = []
    listing_attacks = [a for a in out.values() if a.target_type == "listing"]
    for a in out.values():
        if a.target_type == "shop":
            # "Inside" allows a fifth of the shop's members elsewhere: a shop-wide window also
            # catches the ordinary bad reviews that happened to fall into it.
            home = next((b for b in listing_attacks if b.shop_id == a.target_id
                         and len(set(a.members) - set(b.members)) <= 0.2 * len(a.members)), None)
            if home is not None:
                home.reasons += [r for r in a.reasons if r not in home.reasons and not r.startswith("burst")]
                home.score = max(home.score, a.score)
                continue
        kept.append(a)
    return kept
