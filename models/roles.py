"""Who a person is to the after-sales record, and what that lets them see or change.

The buyer's phone number and order number are entered by staff to work a case. They are
personal data: lists always mask them, emails and logs never carry them, and an export
carries them only for a role that answers for them (a supervisor signing off to finance,
an administrator).
"""

from __future__ import annotations

from enum import StrEnum

from monitor.errors import ConfigError


class Role(StrEnum):
    STAFF = "staff"  # after-sales staff: work cases, contact buyers
    SUPERVISOR = "supervisor"  # assigns work, edits message templates, signs off payments
    ANALYST = "analyst"  # labels and models; reads the record, never the buyer's contact details
    ADMIN = "admin"  # runs the installation


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

# Opening one case to phone the buyer: the people who make the call.
_SEES_CONTACT = {Role.STAFF, Role.SUPERVISOR, Role.ADMIN}
# Taking contact details out of the system in bulk (exports, JSON lists).
_EXPORTS_CONTACT = {Role.SUPERVISOR, Role.ADMIN}
_EDITS_TEMPLATES = {Role.SUPERVISOR, Role.ADMIN}


def parse_role(value: str | Role) -> Role:
    """A role from its name; ConfigError (one line, exit 2) naming the choices otherwise."""
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise ConfigError(f"unknown role {value!r}; choose from {', '.join(ROLES)}") from None


def sees_contact_details(role: Role) -> bool:
    """Whether one case's detail view shows the phone and order number unmasked."""
    return role in _SEES_CONTACT


def exports_contact_details(role: Role) -> bool:
    """Whether lists and exports made by this role carry the phone and order number unmasked."""
    return role in _EXPORTS_CONTACT


def edits_templates(role: Role) -> bool:
    return role in _EDITS_TEMPLATES
