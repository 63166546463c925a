"""SMTP transport: STARTTLS and implicit TLS with AUTH, password only from the environment, never logged."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from pathlib import Path

import pytest

from alerts.transports import PermanentError, SMTPTransport, TemporaryError
from monitor.config import load_settings
from alerts_testkit import smtp_port  # noqa: F401  (fixtures)

PASSWORD = "s3cret-Pa55"


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _server(cert, port, *, implicit: bool):  # noqa: ANN202
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from alerts_testkit import SmtpSink

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(*map(str, cert))

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        ok = auth_data.login == b"alerts" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535 itself

    sink = SmtpSink()
    # aiosmtpd only recognises STARTTLS sessions as encrypted, so with implicit TLS it must
    # be told not to hide AUTH (the socket is TLS from the first byte anyway).
    kwargs = {"ssl_context": server_ctx, "auth_require_tls": False} if implicit else {
        "tls_context": server_ctx, "require_starttls": True, "auth_require_tls": True}
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_required=True,
        auth_exclude_mechanism=["LOGIN"], **kwargs,
    )
    controller.start()
    return controller, sink


def _message():  # noqa: ANN202
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = "test"
    msg["From"] = "shopmon@shop.example"
    msg["To"] = "service@shop.example"
    msg["Message-ID"] = "<t1@shop.example>"
    msg.set_content("hello")
    return msg


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_auth_with_password_from_environment(cert, smtp_port, monkeypatch, tmp_path, security):
    from alerts_testkit import free_port

    monkeypatch.setenv("SHOPMON_SMTP__PASSWORD", PASSWORD)
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path, smtp={"host": "127.0.0.1", "port": port, "security": security, "username": "alerts",
                                 "sender": "shopmon@shop.example", "timeout_seconds": 5},
    )
    controller, sink = _server(cert, port, implicit=security == "ssl")
    try:
        transport = SMTPTransport(settings, ssl_context=ssl.create_default_context(cafile=str(cert[0])))
        assert transport.send(_message()) == "<t1@shop.example>"
        transport.close()
    finally:
        controller.stop()
    [got] = sink.messages
    assert got.rcpt_tos == ["service@shop.example"]
    assert PASSWORD not in got.message.as_string()


def test_wrong_password_is_permanent_and_never_logged(cert, monkeypatch, tmp_path, caplog):
    from alerts_testkit import free_port

    monkeypatch.setenv("SHOPMON_SMTP__PASSWORD", "wrong-" + PASSWORD)
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path, smtp={"host": "127.0.0.1", "port": port, "security": "starttls", "username": "alerts",
                                 "timeout_seconds": 5},
    )
    controller, _ = _server(cert, port, implicit=False)
    caplog.set_level(logging.DEBUG)
    try:
        transport = SMTPTransport(settings, ssl_context=ssl.create_default_context(cafile=str(cert[0])))
        with pytest.raises(PermanentError, match="authentication refused for user 'alerts'") as info:
            transport.send(_message())
    finally:
        controller.stop()
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in caplog.text


def test_untrusted_certificate_is_not_accepted(cert, tmp_path):
    from alerts_testkit import free_port

    port = free_port()
    settings = load_settings(data_dir=tmp_path, smtp={"host": "127.0.0.1", "port": port, "security": "starttls", "timeout_seconds": 5})
    controller, sink = _server(cert, port, implicit=False)
    try:
        with pytest.raises(TemporaryError, match="cannot reach SMTP server"):
            SMTPTransport(settings).send(_message())  # system CAs do not know our self-signed cert
    finally:
        controller.stop()
    assert sink.messages == []


def test_password_in_config_file_is_refused(tmp_path):
    from monitor.errors import ConfigError

    cfg = tmp_path / "shopmon.toml"
    cfg.write_text('[smtp]\nhost = "smtp.example.com"\npassword = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="SHOPMON_SMTP__PASSWORD"):
        load_settings(cfg)
