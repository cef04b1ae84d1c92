"""Delivering a rendered mail: over SMTP (`SMTP_URL`), or, in development without it, as an
`.eml` file in `MAIL_DIR`. Failures are told apart the way SMTP tells them: a 4xx reply or a
connection that fails may succeed later (`MailNotSent`); a 5xx never will (`MailRejected`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailNotSent(Exception):
    """Try again later: the server was unreachable, or answered 4xx."""


class MailRejected(Exception):
    """Do not try again: the server answered 5xx (a bad address, a refused sender)."""


class MailSender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    start_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """`smtp://host:port`, `smtp+starttls://user:pass@host:587`, `smtps://user:pass@host:465`;
        ValueError naming what is wrong (never the password)."""
        parts = urlsplit(url)
        if parts.scheme not in SMTP_SCHEMES:
            raise ValueError(f"scheme must be one of {', '.join(sorted(SMTP_SCHEMES))}")
        if not parts.hostname:
            raise ValueError("no host")
        try:
            port = parts.port or SMTP_SCHEMES[parts.scheme]
        except ValueError:
            raise ValueError("the port is not a number from 1 to 65535") from None
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=parts.scheme == "smtps",
            start_tls=parts.scheme == "smtp+starttls",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpSender:
    def __init__(self, server: SmtpServer, timeout_seconds: float) -> None:
        self.server = server
        self.timeout_seconds = timeout_seconds

    async def send(self, message: EmailMessage) -> None:
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.implicit_tls,
                # Plain smtp:// means plain: no opportunistic upgrade that a server could fail.
                start_tls=server.start_tls,
                timeout=self.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            raise _by_code(min(codes, default=550), "recipient refused") from None
        except aiosmtplib.SMTPResponseException as error:
            raise _by_code(error.code, type(error).__name__) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise MailNotSent(type(error).__name__) from None


def _by_code(code: int, what: str) -> Exception:
    # The server's own words may quote the address; the code and the kind of refusal do not.
    if code >= 500:
        return MailRejected(f"SMTP {code}: {what}")
    return MailNotSent(f"SMTP {code}: {what}")


class DirectorySender:
    """Development without SMTP: each mail an `.eml` file, named by its Message-ID so a mail
    written twice is one file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = "".join(c for c in str(message["Message-ID"]) if c.isalnum() or c in "-.@")
        path = self.directory / f"{name}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(message.as_bytes())
        partial.replace(path)  # a reader never sees half a mail


def mail_sender(smtp_url: str | None, mail_dir: Path, timeout_seconds: float) -> MailSender:
    """SMTP when `SMTP_URL` is set; otherwise `.eml` files (production refuses to start so)."""
    if smtp_url:
        return SmtpSender(SmtpServer.from_url(smtp_url), timeout_seconds)
    return DirectorySender(mail_dir)
