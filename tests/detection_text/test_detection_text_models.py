"""Behavioural tests of the seed-trained text models (minimum functionality, invariance, direction).

Sentences and product names here are not in the seed corpus.
"""

from __future__ import annotations

import pytest

from monitor.detection.phrases import cue_reasons
from monitor.detection.runner import cause_reasons, malicious_reasons
from monitor.detection.text import score_texts
from monitor.detection.text_model import MAX_CHARS

PRODUCTS_ZH = ["空气净化器", "瑜伽垫", "机械键盘", "婴儿奶瓶", "Nike跑鞋"]
PRODUCTS_EN = ["air purifier", "yoga mat", "mechanical keyboard", "baby bottle", "Nike sneakers"]
EXTORTION_ZH = "收到的{p}有点问题，给我转300元，不然这条差评永远不删，我还要天天投诉。"
EXTORTION_EN = "The {p} is a bit scratched. Send me $150 or I will keep posting one-star reviews on every listing."


def _scores(models, texts):  # noqa: ANN001, ANN202
    return score_texts(models, texts)


@pytest.mark.parametrize(("template", "products"), [(EXTORTION_ZH, PRODUCTS_ZH), (EXTORTION_EN, PRODUCTS_EN)])
def test_extortion_is_malicious_whatever_the_product(text_models, template: str, products: list[str]) -> None:
    scores = _scores(text_models, [template.format(p=p) for p in products])
    assert all(s.is_malicious for s in scores), [round(s.malicious, 3) for s in scores]
    # Invariance: swapping the product barely moves the score.
    values = [s.malicious for s in scores]
    assert max(values) - min(values) < 0.15


@pytest.mark.parametrize(
    "text",
    [
        "五星好评可以，先给我红包200，不给的话我让朋友都来差评。",
        "不补偿的话我就去12315投诉，再发抖音曝光你们店。",
        "Give me a full refund and keep the item, otherwise I report your store and post this everywhere.",
        "I'll delete this review once you send me a $40 gift card.",
    ],
)
def test_other_threats_are_malicious(text_models, text: str) -> None:
    (s,) = _scores(text_models, [text])
    assert s.is_malicious, s.malicious


@pytest.mark.parametrize(
    ("complaint", "polite"),
    [
        ("用了三天机械键盘就有两个键失灵了，质量太差。", "谢谢客服的耐心解答，辛苦了！"),
        ("瑜伽垫和图片颜色差别很大，实物发灰。", "希望店家以后改进，祝生意兴隆。"),
        ("The air purifier stopped working after four days. Very poor quality.", "Thank you for your help, have a nice day!"),
        ("The yoga mat arrived a week late.", "The support agent was kind and apologized, thanks."),
    ],
)
def test_polite_sentence_does_not_flip_a_genuine_complaint(text_models, complaint: str, polite: str) -> None:
    plain, with_polite = _scores(text_models, [complaint, complaint + polite])
    assert not plain.is_malicious and not with_polite.is_malicious
    assert with_polite.malicious < text_models["malicious"].threshold


@pytest.mark.parametrize(
    ("complaint", "demand"),
    [
        ("空气净化器噪音很大，质量一般。", "给我补偿100元我就改成好评，否则差评不删。"),
        ("The baby bottle leaks from the lid.", "Pay me $60 and I will change this to five stars, otherwise it stays."),
    ],
)
def test_adding_a_demand_raises_the_score(text_models, complaint: str, demand: str) -> None:
    plain, with_demand = _scores(text_models, [complaint, complaint + demand])
    assert with_demand.malicious > plain.malicious + 0.3
    assert with_demand.is_malicious and not plain.is_malicious


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("键盘用了一周就坏了，做工很差。", "quality"),
        ("瑜伽垫实物颜色和主图差太多了，色差严重。", "not_as_pictured"),
        ("买了两个奶瓶只收到一个，少发了。", "missing_item"),
        ("物流太慢了，下单十二天才收到。", "late_delivery"),
        ("箱子被压坏了，净化器外壳摔裂了。", "transport_damage"),
        ("客服态度恶劣，问问题爱答不理。", "service_attitude"),
        ("The keyboard broke within a week, cheap build quality.", "quality"),
        ("The color of the mat is totally different from the photos.", "not_as_pictured"),
        ("I ordered two bottles and only one was in the package.", "missing_item"),
        ("Shipping was very slow, it took two weeks to arrive.", "late_delivery"),
        ("The box was crushed and the purifier arrived cracked.", "transport_damage"),
        ("Customer service was rude and ignored my messages.", "service_attitude"),
    ],
)
def test_cause_of_genuine_complaints(text_models, text: str, cause: str) -> None:
    (s,) = _scores(text_models, [text])
    assert s.cause_best == cause, (s.cause_best, round(s.cause_score, 3))
    assert not s.is_malicious


def test_reasons_name_the_matched_phrase_and_features(text_models) -> None:
    text = EXTORTION_ZH.format(p="机械键盘")
    (s,) = _scores(text_models, [text])
    reasons = malicious_reasons(text_models["malicious"], text, s)
    assert text_models["malicious"].version in reasons[0]
    assert any("给我转300元" in r or "差评永远不删" in r for r in reasons), reasons
    assert any(r.startswith("top features: ") for r in reasons)
    cause_text = "The box was crushed and the purifier arrived cracked."
    (c,) = _scores(text_models, [cause_text])
    creasons = cause_reasons(text_models["cause"], cause_text, c)
    assert "transport_damage" in creasons[0], creasons
    features = next(r for r in creasons if r.startswith("top features: "))
    assert any(w in features for w in ("crushed", "cracked", "box")), creasons
    # Only whole words are shown for English text, not character fragments.
    shown = [g.strip("“”") for g in features.removeprefix("top features: ").split(", ")]
    assert all(g in cause_text for g in shown) and all(" " in g or g.isalpha() for g in shown), shown


def test_cue_phrases_need_a_demand_or_threat() -> None:
    assert cue_reasons("质量不好，不然也不会退货。") == []  # an ultimatum word alone is not a threat
    assert cue_reasons("Pay me $80 or I leave one-star reviews on all your products.")


def test_bad_input_is_scored_without_failing(text_models) -> None:
    long_text = ("质量很好 good quality " * 6000)[: 100 * 1024]
    texts = ["", "   ", "😀😡👍🔥" * 5, "Good 很好 but 物流 slow, 颜色 nice ✨", long_text, "\x00abc\ufffd"]
    scores = _scores(text_models, texts)
    assert len(scores) == len(texts)
    assert scores[0].malicious == 0.0 and scores[0].cause == "other" and not scores[1].is_malicious
    assert not scores[2].is_malicious and not scores[3].is_malicious and not scores[4].is_malicious
    assert len(long_text) > MAX_CHARS
    for s in scores:
        assert 0.0 <= s.malicious <= 1.0 and 0.0 <= s.deceptive <= 1.0


def test_mixed_script_extortion_is_caught(text_models) -> None:
    (s,) = _scores(text_models, ["这个 phone case 有划痕，pay me 100元，不然差评不删，还要投诉你们。"])
    assert s.is_malicious


def test_seed_models_need_corroboration_unless_configured(text_models) -> None:
    from dataclasses import replace

    from monitor.detection.live_models import TextModels
    from monitor.detection.text_model import SEED_DECEPTIVE_FLOOR

    mal = text_models["malicious"]
    assert mal.seed_default
    complaint = "The lamp flickers and the switch is loose."
    loose = replace(mal, thresholds={"positive": 0.0})  # every score passes the bare threshold
    models = TextModels({**text_models.models, "malicious": loose})
    (s,) = score_texts(models, [complaint])
    assert s.malicious < 0.8 and not s.is_malicious  # no demand/threat phrase: not flagged
    (t,) = score_texts(models, [EXTORTION_EN.format(p="lamp")])
    assert t.is_malicious
    configured = replace(loose, configured=True)  # an operator's threshold is used as is
    (c,) = score_texts(TextModels({**text_models.models, "malicious": configured}), [complaint])
    assert c.is_malicious
    dec = text_models["deceptive"]
    assert dec.threshold >= SEED_DECEPTIVE_FLOOR
    assert replace(dec, thresholds={"positive": 0.3}, configured=True).threshold == 0.3
