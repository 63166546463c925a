"""A shop that reads Chinese gets Chinese emails: reasons, failure kinds and guidance included."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from alerts_testkit import T0, Factory, factory, make_settings  # noqa: F401
from sqlmodel import select

from alerts.cases import open_cases, update_case
from alerts.i18n import translate_reason
from alerts.render import build_message
from alerts.rules import evaluate
from models import Alert, CrawlRun, Review
from monitor.config import ShopConfig

# Reasons exactly as the detectors write them (monitor/detection/attacks.py, behaviour.py, listings/).
ATTACK_REASONS = [
    "burst: 10 bad reviews in 6 h vs baseline 0.02/h (Poisson p=3e-12); 10 of 11 reviews in the window were bad vs 8% usually",
    "10 accounts posted near-identical text (0.93 similar) within 1 h: b***1, b***2, b***3",
    "4 accounts left bad reviews on the same 3 listings within 3 days: b***1, b***2",
    "new attack 21 days after the previous one on this target (incident 2)",
]
IMAGE_REASONS = [
    "listing says dress, but the main image looks like trousers (p=0.81 vs 0.07)",
    "listing says red, but the main image is blue (blue 70%, white 20% of the product)",
    "3 of 4 buyer photos differ in colour from every listing image (largest gap 64%)",
    "buyers say it is not as pictured in 4 of 9 reviews (44%; shop baseline 5%)",
]
ENGLISH = [
    "bad reviews in", "baseline", "accounts", "near-identical", "new attack", "listing says", "main image",
    "buyer photos", "not as pictured", "captcha", "no progress", "promised", "Apologise", "Coordinated",
    "What to do", "Why", "Failure", "platform", "exchange",
]


@pytest.fixture
def zh_shop_emails(session, factory: Factory, tmp_path):
    """The team reads English; the shop "tea" reads Chinese and lives in Shanghai."""
    settings = make_settings(tmp_path)
    settings.shops = [ShopConfig(id="tea", platform="taobao", url="https://shop.example/", language="zh",
                                 timezone="Asia/Shanghai")]
    shop = factory.shop()
    listing = factory.listing(shop, sales=2000)
    members = [factory.review(listing, rating=1, text="假货，骗子店铺", at=T0 - timedelta(hours=k)).id for k in range(10)]
    factory.flag("attack", target_type="listing", target_id=listing.id, listing_id=listing.id, shop_id=shop.id,
                 members=members, reasons=ATTACK_REASONS)
    factory.flag("image_mismatch", target_type="listing", target_id=listing.id, listing_id=listing.id, shop_id=shop.id,
                 label="colour", reasons=IMAGE_REASONS)
    factory.flag("cause", target_type="review", target_id=members[0], label="quality")
    session.add(CrawlRun(shop_id=shop.id, shop_config_id="tea", spider="taobao", status="failed", failure_kind="captcha",
                         started_at=T0, finished_at=T0))
    open_cases(session, settings, now=T0)
    case = factory.case_for(session.get(Review, members[0]))
    update_case(session, case.id, actor="amy", contact="sms", promise_date=T0 + timedelta(hours=1), now=T0)
    evaluate(session, settings, now=T0 + timedelta(hours=3))  # the promise is broken by then: an escalation
    session.commit()
    groups = defaultdict(list)
    for alert in session.exec(select(Alert).order_by(Alert.id)).all():
        groups[alert.kind].append((alert.id, alert.payload, alert.severity))
    return {kind: build_message(settings, kind, alerts, ["x@shop.example"], now=T0) for kind, alerts in groups.items()}


def _parts(msg) -> str:  # noqa: ANN001
    return "\n".join([msg["Subject"], msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()])


def test_every_email_of_a_zh_shop_is_in_chinese(zh_shop_emails):
    assert set(zh_shop_emails) >= {"attack", "image_mismatch", "crawl_health", "serious_case", "escalation"}
    for kind, msg in zh_shop_emails.items():
        rendered = _parts(msg)
        leaked = [w for w in ENGLISH if w in rendered]
        assert not leaked, f"{kind} email holds English: {leaked}"


def test_the_chinese_words_are_the_translations(zh_shop_emails):
    attack = _parts(zh_shop_emails["attack"])
    assert "差评突增：6 小时内 10 条差评" in attack and "10 个账号在 1 小时 内发布了几乎相同的文字（相似度 0.93）" in attack
    assert "距上一次攻击 21 天后的新一轮攻击（第 2 次）" in attack and "3 天 内对同样的 3 个商品给出差评" in attack
    image = _parts(zh_shop_emails["image_mismatch"])
    assert "商品描述为“连衣裙”，但主图看起来是“裤子”" in image and "主图是“蓝色”（商品颜色占比：蓝色 70%, 白色 20%）" in image
    assert "4 张买家秀中有 3 张" in image and "9 条评价中有 4 条说与图片不符" in image and "颜色不符" in image
    assert "需要验证码" in _parts(zh_shop_emails["crawl_health"])
    escalation = _parts(zh_shop_emails["escalation"])
    assert "买家承诺在 2026-03-02 18:00 CST 前修改评价，已逾期" in escalation  # T0 + 1 h in Shanghai
    serious = _parts(zh_shop_emails["serious_case"])
    # an attack member's one advice line, in Chinese; not also the quality cause's apology
    assert "集中攻击" in serious and "向买家致歉" not in serious
    assert "携证据向平台申诉" in escalation and "电话" not in escalation  # an attack is never phoned about


def test_an_untranslated_reason_is_not_shown_in_english():
    assert translate_reason("some future detector reason", "zh") == "其他检测依据（详见系统记录）"
    assert translate_reason("some future detector reason", "en") == "some future detector reason"


def test_every_failure_kind_has_a_chinese_name():
    from alerts.i18n import LABELS, failure_name
    from models.crawl import FAILURE_KINDS

    for kind in (*FAILURE_KINDS, "model", "JobTimeout", "JobInterrupted", "ChildFailed"):
        assert kind in LABELS["zh"] and not LABELS["zh"][kind].isascii(), kind
    assert failure_name("ValueError", "zh") == "任务执行失败"  # a job's exception name is never shown
    assert failure_name(None, "en") == "crawler error"
