"""One template per mail, as files: `<name>.txt` (plain text) and `<name>.html` (HTML,
autoescaped), with the subject in `SUBJECTS`."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

SUBJECTS = {
    "verify_email": "Confirm your email address",
    "reset_password": "Reset your password",
    "confirm_email_change": "Confirm your new email address",
    "email_change_notice": "Your email address is being changed",
}

_templates = Environment(
    loader=PackageLoader("pressroom.mail", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    # A missing value is a bug to hear about, not an empty link in someone's inbox.
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render(
    template: str, *, to: str, sender: str, message_id: str, context: dict[str, Any]
) -> EmailMessage:
    """The mail as it leaves: both parts, and a Message-ID fixed by the job, so a mail sent
    twice (a worker killed after the server took it) is recognisably the same mail."""
    message = EmailMessage()
    message["Subject"] = SUBJECTS[template]
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_templates.get_template(f"{template}.txt").render(**context))
    message.add_alternative(
        _templates.get_template(f"{template}.html").render(**context), subtype="html"
    )
    return message
