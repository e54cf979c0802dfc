"""The two ways an alert leaves the building: SMTP mail and a signed webhook POST."""

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.request
from email.message import EmailMessage
from typing import Any

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-OpenWearables-Signature"


def send_mail(
    config: dict[str, Any], recipients: list[str], subject: str, body: str, message_id: str
) -> None:
    """Send one plain-text mail, or log it when no SMTP server is configured."""
    if not config["SMTP_HOST"]:
        logger.warning("SMTP_HOST is empty; alert mail to %s: %s\n%s", recipients, subject, body)
        return
    message = EmailMessage()
    message["From"] = config["SMTP_FROM"]
    message["To"] = ", ".join(recipients)
    # Names in subjects are user-chosen: folding whitespace keeps them one header line.
    message["Subject"] = " ".join(subject.split())
    # A stable Message-ID lets mail clients fold a duplicate should one ever get through.
    message["Message-ID"] = message_id
    message.set_content(body)
    with smtplib.SMTP(
        config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["ALERT_SEND_TIMEOUT_SECONDS"]
    ) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        smtp.send_message(message)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`."""
    signed = str(timestamp).encode() + b"." + body
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def encode_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def post_webhook(config: dict[str, Any], payload: dict[str, Any]) -> None:
    """POST the payload as JSON, signed over the delivery time and the exact body."""
    body = encode_payload(payload)
    request = urllib.request.Request(  # noqa: S310 - the operator configures an http(s) URL
        config["ALERT_WEBHOOK_URL"],
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "open-wearables-alerts/1",
            SIGNATURE_HEADER: signature(config["ALERT_WEBHOOK_SECRET"], int(time.time()), body),
        },
    )
    with urllib.request.urlopen(  # noqa: S310
        request, timeout=config["ALERT_SEND_TIMEOUT_SECONDS"]
    ) as response:
        response.read()
