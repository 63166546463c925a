"""MinHash near-duplicate detection on hand-made examples."""

from __future__ import annotations

import numpy as np

from monitor.detection import minhash


def test_normalisation_ignores_case_width_punctuation_and_digits():
    assert minhash.normalize("Ｄｏ NOT buy!! Order #123") == "donotbuyorder"
    assert minhash.normalize("别买，骗子！！") == "别买骗子"


def test_similarity_direction_chinese_and_english():
    zh = "质量太差了，客服态度恶劣，大家千万别买，骗子店铺！"
    en = "The product broke after two days, total scam, do not buy from this seller!"
    assert minhash.similarity(zh, zh + "！！") == 1.0
    assert minhash.similarity(en, en.upper().replace("two", "2")) > 0.8
    assert minhash.similarity(zh, "这款手机壳颜色和图片不一样，而且发货很慢，包装也破了") < 0.2
    assert minhash.similarity(en, "Lovely soft scarf, the colour matches the photos exactly.") < 0.2


def test_too_short_texts_are_never_matched():
    sigs, usable = minhash.signatures(["差评", "bad", "", "😡😡😡", "a perfectly long enough complaint"])
    assert usable.tolist() == [False, False, False, False, True]
    assert sigs.shape == (1, minhash.NUM_PERM)
    assert minhash.similarity("差评", "差评") == 0.0


def test_clusters_group_near_duplicates_only():
    base = "the stitching on this bag came apart the first day, refund refused"
    texts = [base, base + "!!!", base.replace("first", "1st"), "completely different words about shoes and socks"]
    sigs, usable = minhash.signatures(texts)
    found = minhash.cluster(sigs)
    assert usable.all()
    assert found.label[0] == found.label[1] == found.label[2] >= 0
    assert found.label[3] == -1
    assert found.similarity[3] == 0 and found.similarity[1] == 1.0


def test_one_template_from_thousands_of_accounts_is_one_cluster():
    # Each bucket member is checked against one representative: linear, not 12.5 M pairs.
    template = "客服态度恶劣，发错货还不给退，大家千万别买这家店的东西"
    texts = [template] * 5000 + [f"独特的评论内容编号{chr(0x4E00 + i)}{chr(0x4E80 + i)}{chr(0x4F00 + i)}很好用" for i in range(50)]
    sigs, _ = minhash.signatures(texts)
    found = minhash.cluster(sigs)
    assert len(np.unique(found.label[:5000])) == 1 and found.label[0] >= 0
