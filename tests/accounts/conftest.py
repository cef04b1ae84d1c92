"""Accounts by email against a real SMTP server: the worker sends, the tests read what arrived."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pressroom.jobs.worker import Worker
from pressroom.mail.sender import SmtpSender, SmtpServer
from pressroom.services import Services
from tests.accounts.mailbox import Mailbox, MailServer, smtp_server

LINK_BASE = "https://app.example.test"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"email_link_base_url": LINK_BASE, "mail_from": "Pressroom <no-reply@example.test>"}


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbox(smtp: MailServer) -> Mailbox:
    return smtp.mailbox


@pytest.fixture
def worker(services: Services, smtp: MailServer) -> Worker:
    sender = SmtpSender(SmtpServer.from_url(smtp.url), timeout_seconds=5)
    return Worker(services, sender=sender, lease_seconds=30, poll_seconds=0.05)
