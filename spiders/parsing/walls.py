"""Pages that are not content: captcha challenges and login walls, often served with HTTP 200."""

from __future__ import annotations

import re
from urllib.parse import urlparse

# Class names and ids in ASCII recognise a wall in any encoding (JD serves GBK): JD's puzzle
# slider (JDJRV-slide-*), Taobao's nocaptcha slider (nc_1_wrapper), Amazon's robot check.
_CAPTCHA = re.compile(
    rb"validateCaptcha|captchacharacters|_____tmd_____|nc_1_wrapper|JDJRV-slide|JDJRV-bigimg"
    rb"|\xe6\xbb\x91\xe5\x8a\xa8\xe9\xaa\x8c\xe8\xaf\x81"  # 滑动验证
    rb"|<title>[^<]{0,40}(?:captcha|Robot Check|\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81)",  # 验证码
    re.I,
)
_LOGIN_FORM = re.compile(
    rb"<form[^>]+(?:name=\"signIn\"|id=\"J_LoginForm\"|id=\"loginForm\"|id=\"formlogin\")"
    # Taobao's login form (login.taobao.com, also served in place of an item page) has no form
    # id: its password field names it
    rb"|<input[^>]+name=\"(?:fm-login-password|TPL_password(?:_1)?)\"",
    re.I)
_LOGIN_URL = re.compile(r"login\.taobao\.com|login\.tmall\.com|passport\.jd\.com|/ap/signin|/member/login|/login\b")


def classify_wall(body: bytes, url: str | None = None) -> str | None:
    """'captcha', 'login' or None when the page looks like real content."""
    if url:
        parsed = urlparse(url)
        if _LOGIN_URL.search((parsed.netloc or "") + (parsed.path or "")):
            return "login"
    head = body[:65536]
    if _CAPTCHA.search(head):
        return "captcha"
    if _LOGIN_FORM.search(head):
        return "login"
    return None
