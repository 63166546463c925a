"""How an email leaves: a stated contract and two transports.

Contract: ``send(message)`` delivers one ``EmailMessage`` to the addresses in its To/Cc
headers and returns an id for the record, or raises

- ``TemporaryError``: worth retrying later (server down, 4xx reply, timeout, disk full);
- ``PermanentError``: retrying cannot help (5xx reply, refused authentication, bad address).

Error texts are one line and never contain the password.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import uuid
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

from monitor.config import Settings


class TransportError(Exception):
    temporary = True


class TemporaryError(TransportError):
    """``unreachable``: the server or folder itself is unavailable, so every other message would fail too."""

    temporary = True

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class PermanentError(TransportError):
    temporary = False


class Transport(Protocol):
    name: str

    def send(self, message: EmailMessage) -> str: ...

    def close(self) -> None: ...


def envelope_recipients(message: EmailMessage) -> list[str]:
    addrs = [a for _, a in getaddresses(message.get_all("To", []) + message.get_all("Cc", [])) if a]
    if not addrs:
        raise PermanentError("message has no recipients")
    return addrs


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:300]


class SMTPTransport:
    """SMTP with STARTTLS, implicit TLS or (for a local relay) neither; one connection reused per run."""

    name = "smtp"

    def __init__(self, settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        cfg = settings.smtp
        if not cfg.host:
            raise ValueError("SMTPTransport needs smtp.host")
        self.host = cfg.host
        self.port = cfg.port
        self.security = cfg.security
        self.username = cfg.username
        self._password = cfg.password
        self.sender = cfg.sender
        self.timeout = cfg.timeout_seconds
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.ssl_context)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=self.ssl_context)
                conn.ehlo()
            if self.username:
                if self._password is None:
                    conn.close()
                    raise PermanentError("smtp.username is set but SHOPMON_SMTP__PASSWORD is not")
                conn.login(self.username, self._password.get_secret_value())
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentError(f"SMTP authentication refused for user {self.username!r} ({exc.smtp_code})") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentError(
                f"SMTP server {self.host}:{self.port} lacks a needed extension ({self.security}): {_one_line(exc)}"
            ) from None
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise TemporaryError(
                f"cannot reach SMTP server {self.host}:{self.port}: {_one_line(exc) or type(exc).__name__}",
                unreachable=True,
            ) from None
        return conn

    def send(self, message: EmailMessage) -> str:
        recipients = envelope_recipients(message)
        if self._conn is None:
            self._conn = self._connect()
        try:
            refused = self._conn.send_message(message, from_addr=self.sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            cls = PermanentError if all(c >= 500 for c in codes) else TemporaryError
            raise cls(f"all recipients refused: {', '.join(f'{a} ({c})' for a, (c, _) in exc.recipients.items())}") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            cls = PermanentError if exc.smtp_code >= 500 else TemporaryError
            raise cls(f"SMTP server refused the message: {exc.smtp_code} {_one_line(exc.smtp_error.decode(errors='replace'))}") from None
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            self._drop()
            raise TemporaryError(
                f"SMTP delivery interrupted: {_one_line(exc) or type(exc).__name__}", unreachable=True
            ) from None
        if refused:
            # Some addresses took it; retrying would duplicate it for them, so record and move on.
            return f"{message['Message-ID']} (refused: {', '.join(sorted(refused))})"
        return str(message["Message-ID"])

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


class OutboxTransport:
    """Writes each message as an .eml file (for setups without SMTP, and the demo)."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> str:
        envelope_recipients(message)
        name = f"{uuid.uuid4().hex}.eml"
        tmp = self.folder / f".{name}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Written aside then renamed, so a reader never sees half a message.
            tmp.write_bytes(message.as_bytes())
            os.replace(tmp, self.folder / name)
        except OSError as exc:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass  # the folder itself is unusable: there is nothing to clean up
            raise TemporaryError(f"cannot write to outbox {self.folder}: {exc.strerror or exc}", unreachable=True) from None
        return str(self.folder / name)

    def close(self) -> None:
        pass


def transport_for(settings: Settings) -> Transport:
    """SMTP when smtp.host is set, otherwise the outbox folder."""
    if settings.smtp.host:
        return SMTPTransport(settings)
    return OutboxTransport(settings.outbox_path)
