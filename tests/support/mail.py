"""What the app mailed: settings that send it to a test SMTP server, and its links."""

import re
from email.message import Message
from typing import Any

from tests.support.network import SmtpServer


def smtp_settings(mail_server: SmtpServer) -> dict[str, Any]:
    """Settings that send the app's mail to `mail_server`."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": mail_server.port,
        "SMTP_FROM": "accounts@openwearables.test",
    }


def mailed_link(message: Message) -> tuple[str, str]:
    """The one link in a received mail, as (the link, the token from its #fragment)."""
    [link] = re.findall(r"https?://\S+", message.get_payload(decode=True).decode())
    return link, link.partition("#token=")[2]


def mails_to(mail_server: SmtpServer, address: str) -> list[Message]:
    return [m for m in mail_server.messages if m["X-Envelope-To"] == address]
