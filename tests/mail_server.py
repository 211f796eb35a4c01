"""A real SMTP server on loopback for the mail tests (aiosmtpd), with the misbehaviours a
sender must survive: refused recipients, 421 replies, connections dropped mid-DATA."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

DROP = "drop"  # a scripted DATA reply: close the connection instead of answering


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    user: str | None  # who logged in, if anyone

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Accepts everything, except what the test scripts: recipients to refuse with 550, and
    replies to the next DATA commands (a status line, or DROP)."""

    refuse: set[str] = field(default_factory=set)
    data_replies: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    attempts: list[bytes] = field(default_factory=list)  # every message body, accepted or not
    delays: list[float] = field(default_factory=list)  # seconds to stall before a DATA reply

    @property
    def transactions(self) -> int:
        return len(self.attempts)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.attempts.append(envelope.content)
        # Both scripts are read at once: another connection may arrive while this one stalls.
        delay = self.delays.pop(0) if self.delays else 0.0
        reply = self.data_replies.pop(0) if self.data_replies else None
        if delay:
            await asyncio.sleep(delay)
        if reply == DROP:
            # The whole message arrived, but the client never learns whether it was taken.
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        if reply is not None:
            return reply
        assert envelope.mail_from is not None
        user = session.auth_data.login.decode() if session.auth_data else None
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, user)
        )
        return "250 OK queued"


class _Controller(Controller):
    """Listens on port 0 (a free port the OS picks) and learns which port that was."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


def authenticator(user: str, password: str) -> Any:
    """An aiosmtpd authenticator accepting one login."""

    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        # handled=False: aiosmtpd answers a failure itself, with 535.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return check


@dataclass(frozen=True)
class Tls:
    """A certificate authority made for the test, the server's context and a client context
    that trusts it."""

    ca: trustme.CA
    server: ssl.SSLContext
    client: ssl.SSLContext


def make_tls() -> Tls:
    """A fresh CA with a certificate for 127.0.0.1 and localhost."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return Tls(ca, server, client)


@dataclass
class Server:
    port: int
    handler: Handler


@contextmanager
def smtp_server(handler: Handler | None = None, **kwargs: Any) -> Iterator[Server]:
    """A running server on 127.0.0.1; ``kwargs`` go to aiosmtpd (``tls_context``,
    ``require_starttls``, ``authenticator``, ``ssl_context`` for implicit TLS ...)."""
    handler = handler or Handler()
    controller = _Controller(handler, hostname="127.0.0.1", port=0,
                             server_hostname="localhost", **kwargs)
    controller.start()
    try:
        yield Server(controller.port, handler)
    finally:
        controller.stop()
