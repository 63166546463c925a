"""Message templates (话术): one kind per case by precedence, supervisor edits, contact offers, public reply drafts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.cases import open_cases, update_case
from alerts.guidance import case_kind
from alerts.phrasing import all_templates, get_template, next_channel, render_for_case, set_template
from models.roles import Role
from monitor.errors import ConfigError, DataError
from alerts_testkit import db_cli, factory  # noqa: F401  (fixtures)

NOW = datetime.now(UTC)


def test_one_kind_per_case_in_the_handbooks_precedence() -> None:
    assert case_kind(["professional", "attack", "malicious"], "quality") == "extortion"
    assert case_kind(["professional", "attack"], "quality") == "attack"
    assert case_kind(["professional", "deceptive"], None) == "professional"
    assert case_kind(["deceptive"], "missing_item") == "missing_item"
    assert case_kind([], "unclassified") == "other"
    assert [next_channel(c) for c in ("none", "wangwang", "sms", "phoned")] == ["wangwang", "sms", "phoned", "phoned"]


def test_a_supervisor_edits_a_template_and_staff_get_it_for_their_case(session, db_settings, factory) -> None:
    listing = factory.listing(factory.shop(), title="龙井 250g")
    review = factory.review(listing, rating=2, nick="z***y", at=NOW)
    factory.flag("cause", target_type="review", target_id=review.id, label="missing_item", score=0.9)
    open_cases(session, db_settings, now=NOW)
    case = factory.case_for(review)

    default = render_for_case(session, case, "wangwang", "zh")
    assert default.startswith("z***y 您好，我是Tea House的售后客服。看到您对「龙井 250g」的评价")
    assert "补发" in default and listing.url in default

    with pytest.raises(ConfigError, match="a staff cannot edit message templates"):
        set_template(session, "missing_item", "zh", "wangwang", "x", role=Role.STAFF, actor="amy")
    with pytest.raises(DataError, match=r"unknown placeholder\(s\) \{order\}"):
        set_template(session, "missing_item", "zh", "wangwang", "订单 {order}", role=Role.SUPERVISOR, actor="sue")
    set_template(session, "missing_item", "zh", "wangwang", "亲，{item} 少发的部分今天补发。{remedy}",
                 role=Role.SUPERVISOR, actor="sue", now=NOW)
    assert render_for_case(session, case, "wangwang", "zh").startswith("亲，龙井 250g 少发的部分今天补发。我们已核对打包记录")
    assert get_template(session, "missing_item", "zh", "wangwang").edited_by == "sue"
    assert render_for_case(session, case, "wangwang", "en").startswith("Hello z***y")  # English untouched
    set_template(session, "missing_item", "zh", "wangwang", "", role=Role.ADMIN, actor="root")
    assert render_for_case(session, case, "wangwang", "zh") == default
    assert len(all_templates(session)) == 10 * 2 * 4


def test_public_reply_genuine_names_cause_and_remedy_malicious_admits_nothing(session, db_settings, factory) -> None:
    listing = factory.listing(factory.shop())
    genuine = factory.review(listing, rating=1, at=NOW)
    factory.flag("cause", target_type="review", target_id=genuine.id, label="transport_damage", score=0.9)
    extortion = factory.review(listing, rating=1, at=NOW)
    factory.flag("malicious", target_type="review", target_id=extortion.id)
    open_cases(session, db_settings, now=NOW)

    reply = render_for_case(session, factory.case_for(genuine), "public_reply", "en")
    assert reply.startswith("Thank you for telling us. The cause was damaged in transport; we offered a resend or refund")
    assert "resent the parcel" in render_for_case(session, factory.case_for(genuine), "public_reply", "en",
                                                  done="we resent the parcel the same day")
    bad = render_for_case(session, factory.case_for(extortion), "public_reply", "en")
    assert "does not match" in bad and "evidence to the platform" in bad
    for admission in ("sorry", "apolog", "refund", "our mistake", "compensat"):
        assert admission not in bad.lower()
    contact = render_for_case(session, factory.case_for(extortion), "wangwang", "zh")
    assert "不能以任何形式为修改评价付费" in contact


def test_template_and_reply_commands(db_cli, session, db_settings, factory) -> None:
    review = factory.review(factory.listing(factory.shop()), rating=1, nick="q***q", at=NOW)
    open_cases(session, db_settings, now=NOW)
    case = factory.case_for(review)
    update_case(session, case.id, actor="amy", contact="wangwang", now=NOW)
    session.commit()
    cli = db_cli
    code, _, err = cli("cases", "templates", "edit", "other", "sms", "--text", "hi {buyer}")
    assert code == 2 and "a staff cannot edit message templates" in err
    assert cli("cases", "templates", "edit", "other", "sms", "--lang", "en", "--text", "{shop}: hi {buyer}, we will call.",
               "--role", "supervisor", "--by", "sue") == (0, "[other / sms / en] saved by sue\n", "")
    code, out, _ = cli("cases", "templates", "list", "--kind", "other", "--lang", "en")
    assert code == 0 and "[other / sms / en] edited by sue" in out and out.count("] default") == 3
    assert cli("cases", "message", str(case.id)) == (0, "Tea House: hi q***q, we will call.\n", "")  # SMS follows 旺旺
    code, out, _ = cli("cases", "show", str(case.id))
    assert "Next contact (sms), from the team's templates:\n  Tea House: hi q***q, we will call." in out
    code, out, _ = cli("cases", "reply", str(case.id), "--lang", "zh")
    assert code == 0 and out.startswith("感谢您的反馈。问题原因是其他；我们已联系买家处理。")
    assert cli("cases", "message", str(case.id), "--channel", "fax")[0] == 2
