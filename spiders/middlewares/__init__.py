"""Downloader middlewares: block/captcha/login detection, back-off on 429/503, cookies from a file."""
