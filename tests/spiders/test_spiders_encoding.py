"""Bytes → text: trust the bytes over the label, count what cannot be decoded."""

from __future__ import annotations

from monitor.encoding import decode_page


def test_gbk_bytes_with_gbk_meta() -> None:
    body = '<meta charset="gbk"><p>颜色分类：白色</p>'.encode("gbk")
    d = decode_page(body)
    assert (d.text.endswith("颜色分类：白色</p>"), d.encoding, d.decode_errors) == (True, "gb18030", 0)


def test_gbk_bytes_without_any_label() -> None:
    d = decode_page("<p>快递把杯子摔碎了</p>".encode("gbk"))
    assert "快递把杯子摔碎了" in d.text and d.decode_errors == 0


def test_meta_says_gbk_but_bytes_are_utf8() -> None:
    d = decode_page('<meta charset="gbk"><p>色差很大</p>'.encode())
    assert "色差很大" in d.text
    assert d.encoding == "utf-8" and d.declared == "gbk" and d.charset_mismatch


def test_header_charset_is_only_a_hint() -> None:
    d = decode_page("<p>好评</p>".encode(), "text/html; charset=ISO-8859-1")
    assert "好评" in d.text and d.declared == "iso-8859-1"


def test_replacement_characters_are_counted() -> None:
    already_broken = "<p>\ufffd\ufffd好</p>".encode()
    assert decode_page(already_broken).decode_errors == 2
    invalid = "<p>好评</p>".encode("gbk")[:-6] + b"\xff\xfe" + b"</p>"
    d = decode_page(invalid)
    assert d.decode_errors > 0


def test_utf8_bom() -> None:
    d = decode_page(b"\xef\xbb\xbf<p>ok</p>")
    assert d.text == "<p>ok</p>" and d.encoding == "utf-8"
