"""One update for several cases at once (the CLI's `cases update 6 7 8`, the board's multi-select).

All or nothing: the update runs in a savepoint, so one refused case leaves every case as it was.
Each case still gets its own history. An attack's parent carries its members with it when it
goes to ``platform_appeal`` (one appeal for all) or ``closed``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from models.base import utcnow
from models.cases import Case
from monitor.config import CasesConfig

from alerts.attacks import RESOLVED, attack_members
from alerts.cases import CaseError, get_case, update_case

# States an attack's members follow their parent into.
FOLLOWED_STATES = ("platform_appeal", "closed")


def _member_state(member: Case, state: str | None) -> str | None:
    """The state a member follows its parent into, or None where it stays (already there, or resolved)."""
    if state is None or member.state == state or (member.state in RESOLVED and state != "closed"):
        return None
    return state


def _targets(session: Session, ids: list[int], state: str | None, *, whole_attack: bool) -> list[tuple[int, str | None]]:
    """(case id, state to apply) in order: the cases named, then the members that come with their parent."""
    out: dict[int, str | None] = {cid: state for cid in ids}
    if not whole_attack and state not in FOLLOWED_STATES:
        return list(out.items())
    for cid in ids:
        for member in attack_members(session, cid):
            if member.id not in out:
                out[member.id] = _member_state(member, state)  # type: ignore[index]
    return list(out.items())


def update_cases(
    session: Session,
    case_ids: list[int],
    *,
    actor: str,
    attack: int | None = None,
    config: CasesConfig | None = None,
    now: datetime | None = None,
    **changes: Any,
) -> list[Case]:
    """Apply ``update_case`` changes (state, contact, note, ...) to the cases named and/or an attack's cases.

    ``attack`` names an attack's parent case: it and all its members are updated. Per-buyer
    details (phone, order number, buyer id) are refused for more than one case.
    """
    now = now or utcnow()
    ids = list(dict.fromkeys(case_ids))
    if attack is not None:
        if get_case(session, attack).review_id is not None or not attack_members(session, attack):
            raise CaseError(f"case {attack} is not an attack (it has no member cases)")
        ids = list(dict.fromkeys([*ids, attack]))
    if not ids:
        raise CaseError("name at least one case id, or --attack with the attack's case id")
    personal = [k for k in ("phone", "order_no", "buyer_id") if changes.get(k) is not None]
    if personal and (len(ids) > 1 or attack is not None):
        raise CaseError(f"{', '.join(personal)}: these belong to one buyer; update one case at a time")
    state = changes.pop("state", None)
    others = any(v is not None for v in changes.values())
    targets = [
        (cid, st) for cid, st in _targets(session, ids, state, whole_attack=attack is not None)
        if st or others or cid in ids
    ]
    with session.begin_nested():
        return [
            update_case(session, cid, actor=actor, state=st, config=config, now=now, **changes) for cid, st in targets
        ]
