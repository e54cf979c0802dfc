"""Raise unusual-activity alerts, and the detectors that count the events behind them.

`raise_activity_alert` is the one way to raise one: it queues the alert through the
outbox (mail to the subject's owner and `ALERT_EMAIL_TO`, the signed webhook) and writes
an audit event, in one transaction with a row of `activity_alerts` whose primary key
(kind, subject, clock hour) lets at most one such alert through per hour, whichever
worker raises it.

The detectors count failures only, so a request that succeeds pays nothing for them:
each failure is one `INCR` + `EXPIRE` round trip on a counter of the current fixed
bucket (`owa:{activity:<subject>}:<kind>:<bucket seconds>:<bucket number>`, under the
subject's hash tag), shared by every worker; the failure that brings the counter to
its threshold raises the alert, so a bucket raises it at most once. Without Redis
(`make run`) the counters live in the process. While Redis is unreachable nothing is
counted: the failure-only rate limits still apply, and counting resumes with Redis.
"""

import ipaddress
import logging
import time
from datetime import datetime
from typing import Any

import redis
import sqlalchemy.exc
from flask import current_app

from app.activity_alerts.models import SUBJECT_LENGTH, ActivityKind, RaisedActivityAlert
from app.alerts import services as alerts
from app.alerts.models import Alert
from app.api_keys import services as api_keys
from app.api_keys.models import ApiKey
from app.applications import services as applications
from app.audit import services as audit
from app.core.actor import Actor
from app.core.admission import rate_limits_on_fallback
from app.core.client import ClientInfo, client_info, parse_address
from app.core.db import insert_on_conflict, utcnow
from app.core.secrets import digest
from app.core.store import RedisStore, get_store
from app.extensions import db

logger = logging.getLogger(__name__)

DETECTOR = Actor(type="system", id="activity-alerts", name="Unusual-activity detection")
IPV4_NETWORK_PREFIX, IPV6_NETWORK_PREFIX = 24, 48
API_KEY, APPLICATION, NETWORK = "api_key", "application", "network"
SUBJECT_TYPES = {
    ActivityKind.NEW_NETWORK: API_KEY,
    ActivityKind.MINT_FAILURES: APPLICATION,
    ActivityKind.AUTH_FAILURES: NETWORK,
    ActivityKind.LIMIT_SUSTAINED: API_KEY,
    ActivityKind.TRAFFIC_SPIKE: API_KEY,
}
"""What each kind's subject is: an API key id, an `app_id` or a network."""
TITLES = {
    ActivityKind.NEW_NETWORK: "API key used from a new network",
    ActivityKind.MINT_FAILURES: "failed SDK token mints",
    ActivityKind.AUTH_FAILURES: "invalid API keys from one network",
    ActivityKind.LIMIT_SUSTAINED: "API key held at its rate limit",
    ActivityKind.TRAFFIC_SPIKE: "API key traffic spike",
}
NO_CLIENT = ClientInfo(ip=None, user_agent=None)


def event_name(kind: ActivityKind) -> str:
    """The alert's event and the audit action."""
    return f"activity.{kind.value}"


def network_of(address: str | None) -> str:
    """The network an address is counted in: IPv4 by /24, IPv6 by /48 (an IPv4-mapped
    IPv6 address as its IPv4 address); anything unparseable as itself."""
    parsed = parse_address(address)
    if parsed is None:
        return (address or "unknown")[:SUBJECT_LENGTH]
    prefix = IPV4_NETWORK_PREFIX if parsed.version == 4 else IPV6_NETWORK_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))


def current_hour() -> datetime:
    return utcnow().replace(minute=0, second=0, microsecond=0)


def raise_activity_alert(
    kind: ActivityKind,
    subject: str,
    summary: str,
    details: dict[str, Any],
    client: ClientInfo | None,
) -> Alert | None:
    """Alert on `subject` (see `SUBJECT_TYPES`) and audit it as `activity.<kind>`, then
    commit; None, with nothing written, when this kind was already raised for this
    subject in the current clock hour. `summary` is the alert's text; `details` (no
    secrets) go to the audit event. Commits the session: call it with nothing else
    pending (a duplicate rolls the session back)."""
    credential, recipients = _addressees(kind, subject)
    alert = alerts.queue_alert(
        event=event_name(kind),
        subject=f"Unusual activity, {TITLES[kind]}: {credential.name}",
        summary=summary,
        credential=credential,
        actor=DETECTOR,
        client=client,
        recipients=recipients,
    )
    db.session.flush()
    if not _first_this_hour(kind, subject, alert):
        db.session.rollback()
        return None
    audit.record(
        event_name(kind),
        DETECTOR,
        client or NO_CLIENT,
        credential.type,
        subject,
        {**details, "alert_id": str(alert.id)},
    )
    db.session.commit()
    return alert


def _addressees(kind: ActivityKind, subject: str) -> tuple[alerts.Credential, list[str]]:
    """What the alert names and who gets it besides `ALERT_EMAIL_TO`: an API key's
    owner, an application's creator; a network has no owner."""
    subject_type = SUBJECT_TYPES[kind]
    owner: str | None = None
    if subject_type == API_KEY:
        api_key = db.session.get(ApiKey, subject)
        name = api_key.name if api_key else "deleted API key"
        owner = api_keys.owner_email(api_key) if api_key else None
    elif subject_type == APPLICATION:
        application = applications.find_by_app_id(subject)
        name = application.name if application else "unknown app_id"
        owner = applications.creator_email(application) if application else None
    else:
        name = subject
    credential = alerts.Credential(type=subject_type, id=subject, name=name)
    return credential, [owner] if owner else []


def _first_this_hour(kind: ActivityKind, subject: str, alert: Alert) -> bool:
    statement = insert_on_conflict(RaisedActivityAlert, db.session.get_bind().dialect)
    # RETURNING says whether the row went in (rowcount is not reliable for an INSERT).
    inserted = db.session.scalar(
        statement.values(kind=kind.value, subject=subject, hour=current_hour(), alert_id=alert.id)
        .on_conflict_do_nothing()
        .returning(RaisedActivityAlert.alert_id)
    )
    return inserted is not None


def _count(tag: str, kind: ActivityKind, seconds: int) -> int | None:
    """Count one event in the current bucket of `seconds`; None when it could not be
    counted (Redis unreachable)."""
    store = get_store()
    if isinstance(store, RedisStore) and rate_limits_on_fallback(current_app):
        return None  # known to be down: no waiting for a timeout on every failure
    bucket = int(time.time() // seconds)
    key = f"owa:{{activity:{tag}}}:{kind.value}:{seconds}:{bucket}"
    try:
        return store.increment(key, seconds)
    except redis.RedisError as error:
        logger.warning("unusual-activity counter %s not counted: %s", key, error)
        return None


def note_mint_failure(app_id: str, client: ClientInfo) -> None:
    """One SDK token mint refused for wrong app credentials (known `app_id` or not)."""
    config = current_app.config
    threshold = config["ACTIVITY_MINT_FAILURES_THRESHOLD"]
    seconds = config["ACTIVITY_MINT_FAILURES_SECONDS"]
    # By digest: Redis key names should not carry what strangers submit.
    count = _count(f"app:{digest(app_id)}", ActivityKind.MINT_FAILURES, seconds)
    if count != threshold:
        return
    network = network_of(client.ip)
    raise_activity_alert(
        ActivityKind.MINT_FAILURES,
        app_id,
        summary=(
            f"{count} SDK token mints for app_id {app_id} were refused for wrong app "
            f"credentials within {seconds} seconds (the last one from {network}). Someone "
            "may be guessing this application's secret: check the audit trail "
            "(sdk_token.mint_failed), and rotate the secret if it may have leaked."
        ),
        details={"app_id": app_id, "failures": count, "seconds": seconds, "network": network},
        client=client,
    )


def note_api_key_refusal(address: str | None) -> None:
    """One API key refused with 401 (malformed, unknown, rotated, deleted, revoked or
    expired), sent from `address`; the admission calls this (`set_api_key_refusal_listener`)."""
    config = current_app.config
    threshold = config["ACTIVITY_AUTH_FAILURES_THRESHOLD"]
    seconds = config["ACTIVITY_AUTH_FAILURES_SECONDS"]
    network = network_of(address)
    count = _count(f"net:{network}", ActivityKind.AUTH_FAILURES, seconds)
    if count != threshold:
        return
    try:
        raise_activity_alert(
            ActivityKind.AUTH_FAILURES,
            network,
            summary=(
                f"{count} requests from {network} were refused for invalid, revoked or "
                f"expired API keys within {seconds} seconds. Someone there may be trying "
                "keys (a scanner): consider blocking the network at the proxy."
            ),
            details={"network": network, "failures": count, "seconds": seconds},
            client=client_info(),
        )
    except sqlalchemy.exc.SQLAlchemyError:
        # The refused request's answer (401) must not depend on its alert.
        db.session.rollback()
        logger.exception(
            "the %s alert for %s could not be raised",
            event_name(ActivityKind.AUTH_FAILURES),
            network,
        )
