"""What staff keep on a case beside its state: the buyer's contact details, the promise, the money.

Phone and order numbers are checked and normalised here, and masked here for everyone who
sees a list; nothing in this module logs them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlmodel import Session

from models.cases import Case
from models.catalog import Shop
from models.reviews import Review
from models.roles import Role, exports_contact_details, sees_contact_details
from monitor.config import CasesConfig
from monitor.errors import DataError

_PHONE = re.compile(r"^\+?\d{6,15}$")
_ORDER = re.compile(r"^[A-Za-z0-9-]{4,40}$")
CONTACT_FIELDS = ("buyer_phone", "order_no")


def normalise_phone(raw: str) -> str | None:
    """Digits with an optional leading +; spaces, dashes and brackets dropped. Empty clears it."""
    value = re.sub(r"[\s\-()]", "", raw or "")
    if not value:
        return None
    if not _PHONE.match(value):
        raise DataError("the phone number must be 6 to 15 digits (an optional leading + and spaces/dashes allowed)")
    return value


def normalise_order_no(raw: str) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if not _ORDER.match(value):
        raise DataError("the order number must be 4 to 40 letters, digits or dashes")
    return value


def mask_phone(value: str | None) -> str | None:
    """138****5678: enough to tell two buyers apart, not enough to call one."""
    if not value:
        return value
    if len(value) >= 9:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * (len(value) - 2) + value[-2:]


def mask_order_no(value: str | None) -> str | None:
    if not value:
        return value
    return "*" * max(len(value) - 4, 4) + value[-4:]


def contact_details(case: Case, role: Role, *, bulk: bool) -> dict[str, str | None]:
    """Phone and order number as this role may see them: one case opened to call the buyer, or a list/export."""
    allowed = exports_contact_details(role) if bulk else sees_contact_details(role)
    if allowed:
        return {"buyer_phone": case.buyer_phone, "order_no": case.order_no}
    return {"buyer_phone": mask_phone(case.buyer_phone), "order_no": mask_order_no(case.order_no)}


def parse_amount(text: str) -> int:
    """'12.5' -> 1250 cents; positive, at most two decimals."""
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation:
        raise DataError(f"amount {text!r} is not a number (write it like 12.50)") from None
    if not amount.is_finite() or amount <= 0:
        raise DataError(f"amount {text!r} must be more than zero")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise DataError(f"amount {text!r} has more than two decimals")
    return int(cents)


def format_amount(cents: int | None, currency: str = "") -> str:
    if cents is None:
        return "-"
    text = f"{cents // 100}.{cents % 100:02d}"
    return f"{text} {currency}".strip()


def case_platform(session: Session, case: Case) -> str | None:
    if case.review_id is not None:
        review = session.get(Review, case.review_id)
        if review is not None:
            return review.platform
    if case.shop_id is not None:
        shop = session.get(Shop, case.shop_id)
        if shop is not None:
            return shop.platform
    return None


def check_promise(
    session: Session, case: Case, promised_by: datetime, *, now: datetime, config: CasesConfig
) -> None:
    """A promise must lie ahead, and before the platform stops letting the buyer change the review."""
    if promised_by.tzinfo is None:
        raise DataError("promise date must carry a time zone")
    if promised_by <= now:
        raise DataError(f"promise date {promised_by.isoformat()} is in the past; ask the buyer for a date ahead")
    posted = case.review_posted_at or case.opened_at
    days = config.edit_window(case_platform(session, case))
    last = posted + timedelta(days=days)
    if promised_by > last:
        raise DataError(
            f"promise date {promised_by.isoformat()} is after {last.isoformat()}, when the buyer can no longer "
            f"change the review ({days:g} days after it was posted; cases.review_edit_days)"
        )
