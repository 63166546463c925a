"""Bytes → text: Scrapy's decoding, corrected where it is wrong (monitor/encoding.py), and every
character that could not be decoded counted."""

from __future__ import annotations

from scrapy.http import TextResponse

from spiders.parsing.responses import CHARSET_MISMATCH, response_for, start

URL = "https://item.taobao.com/item.htm?id=1"


def scrapy_text(body: bytes, content_type: str | None = None) -> str:
    return TextResponse(URL, body=body, headers={"Content-Type": content_type} if content_type else {}).text


def test_gbk_bytes_with_gbk_meta_is_scrapys_own_answer() -> None:
    body = '<meta charset="gbk"><p>颜色分类：白色</p>'.encode("gbk")
    r = response_for(body, URL)
    assert r.text.endswith("颜色分类：白色</p>") and r.encoding == "gb18030" and r.text == scrapy_text(body)
    assert CHARSET_MISMATCH not in r.flags


def test_gbk_bytes_without_any_label() -> None:
    body = "<p>快递把杯子摔碎了</p>".encode("gbk")
    assert "快递把杯子摔碎了" not in scrapy_text(body)  # Scrapy's guess (charset-normalizer) is Korean
    r = response_for(body, URL)
    assert "快递把杯子摔碎了" in r.text and r.encoding == "gb18030"


def test_gbk_meta_after_150_kb_of_scripts() -> None:
    """The real Tmall save: w3lib only looks at the first 4 KB for a <meta> charset."""
    body = b"<html><head>" + b"<script>var x = 1;</script>" * 6000 + '<meta charset="gbk"></head><p>色差很大</p>'.encode("gbk")
    assert "色差很大" not in scrapy_text(body)
    assert "色差很大" in response_for(body, URL).text


def test_meta_says_gbk_but_bytes_are_utf8() -> None:
    body = '<meta charset="gbk"><p>色差很大</p>'.encode()
    assert "色差很大" not in scrapy_text(body)  # Scrapy believes the label
    r = response_for(body, URL)
    assert "色差很大" in r.text and r.encoding == "utf-8" and CHARSET_MISMATCH in r.flags
    assert start("item", r).stats == {"decode_errors": 0, "charset_mismatch": 1}


def test_header_charset_is_only_a_hint() -> None:
    body = "<p>好评</p>".encode()
    assert "好评" not in scrapy_text(body, "text/html; charset=ISO-8859-1")
    assert "好评" in response_for(body, URL, "text/html; charset=ISO-8859-1").text


def test_replacement_characters_are_counted() -> None:
    already_broken = "<p>\ufffd\ufffd好</p>".encode()
    assert start("item", response_for(already_broken, URL)).stats["decode_errors"] == 2
    invalid = '<meta charset="gbk"><p>好评</p>'.encode("gbk")[:-6] + b"\xff\xfe" + b"</p>"
    assert start("item", response_for(invalid, URL)).stats["decode_errors"] > 0


def test_utf8_bom() -> None:
    r = response_for(b"\xef\xbb\xbf<p>ok</p>", URL)
    assert r.text == "<p>ok</p>" and r.encoding == "utf-8"
