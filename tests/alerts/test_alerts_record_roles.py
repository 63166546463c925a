"""Roles: the four names, and who may see a buyer's contact details where."""

from __future__ import annotations

import pytest

from models.roles import ROLES, Role, edits_templates, exports_contact_details, parse_role, sees_contact_details
from monitor.errors import ConfigError


def test_roles_parse_by_name_and_refuse_unknown_with_the_choices() -> None:
    assert ROLES == ("staff", "supervisor", "analyst", "admin")
    assert parse_role(" Supervisor ") is Role.SUPERVISOR
    with pytest.raises(ConfigError, match="unknown role 'boss'; choose from staff, supervisor, analyst, admin"):
        parse_role("boss")


def test_only_supervisors_and_admins_export_contact_details() -> None:
    assert [r for r in Role if exports_contact_details(r)] == [Role.SUPERVISOR, Role.ADMIN]
    assert [r for r in Role if sees_contact_details(r)] == [Role.STAFF, Role.SUPERVISOR, Role.ADMIN]
    assert [r for r in Role if edits_templates(r)] == [Role.SUPERVISOR, Role.ADMIN]
