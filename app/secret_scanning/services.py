"""Reports of leaked tokens from GitHub's secret scanning partner program.

GitHub signs the raw body with ECDSA P-256 / SHA-256 under one of the public keys it
publishes at `https://api.github.com/meta/public_keys/secret_scanning`; the operator
keeps a copy of that document in `SECRET_SCANNING_PUBLIC_KEYS_FILE`, re-read on every
report (reports are rare), so refreshing it needs no restart.

Each reported token is looked up by its digest, the way API keys are stored (the
current secret, or the previous one while a rotation's grace period keeps it working).
The first report of a token revokes the key, or for a previous secret ends the grace
period (the current secret was not reported), or only alerts
(`SECRET_SCANNING_ACTION=alert`); it queues an alert naming where it leaked and writes
an audit event, all in one transaction together with the report's record; the stopped
secret's tombstone is pushed to Redis right after the commit (not left to a worker), so
it fails on every worker at once. A replay of the same token is answered from that
record and changes nothing. The token itself is never stored or logged.
"""

import base64
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.alerts import services as alerts
from app.api_keys import services as api_keys
from app.api_keys.models import ApiKey
from app.audit import services as audit
from app.core.actor import Actor
from app.core.client import ClientInfo
from app.core.errors import ApiError
from app.core.secrets import digest
from app.extensions import db
from app.refresh_tokens import revocations
from app.refresh_tokens.models import RevocationRecord
from app.secret_scanning.models import (
    SOURCE_LENGTH,
    TOKEN_TYPE_LENGTH,
    URL_LENGTH,
    SecretScanningReport,
)
from app.secret_scanning.schemas import FALSE_POSITIVE, TRUE_POSITIVE

logger = logging.getLogger(__name__)

GITHUB = Actor(type="system", id="github-secret-scanning", name="GitHub secret scanning")
SIGNATURE_CHALLENGE = 'GitHub-Signature realm="secret-scanning"'
REVOKE = "revoke"
REVOKED, GRACE_ENDED, ALERTED, NONE = "revoked", "grace_ended", "alerted", "none"


class PublicKeysError(ValueError):
    """The public keys file is missing, unreadable, or not GitHub's format."""


def load_public_keys(path: str) -> dict[str, ec.EllipticCurvePublicKey]:
    """GitHub's `{"public_keys": [{"key_identifier", "key": PEM, "is_current"}]}`, by
    identifier. Keys no longer current still verify: GitHub lists them while it rotates."""
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise PublicKeysError(f"secret scanning public keys file {path}: {error}") from error
    entries = document.get("public_keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise PublicKeysError(f"{path} has no `public_keys` list")
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    for entry in entries:
        identifier = entry.get("key_identifier") if isinstance(entry, dict) else None
        pem = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or not isinstance(pem, str):
            raise PublicKeysError(f"{path}: each public key needs `key_identifier` and `key`")
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except ValueError as error:
            raise PublicKeysError(f"{path}: unreadable key {identifier}: {error}") from error
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise PublicKeysError(f"{path}: key {identifier} is not an ECDSA P-256 key")
        keys[identifier] = key
    return keys


def _refused(detail: str) -> ApiError:
    return ApiError(401, detail, {"WWW-Authenticate": SIGNATURE_CHALLENGE})


def verify_signature(body: bytes, key_identifier: str | None, signature: str | None) -> None:
    """401 unless `signature` (base64 DER) is GitHub's ECDSA signature of `body` under
    the key named `key_identifier`."""
    if not key_identifier or not signature:
        raise _refused("Missing GitHub signature headers.")
    path = current_app.config["SECRET_SCANNING_PUBLIC_KEYS_FILE"]
    try:
        keys = load_public_keys(path)
    except PublicKeysError:
        logger.exception("secret scanning report refused: the public keys file is unusable")
        raise ApiError(503, "GitHub's public keys are unavailable; try again later.") from None
    key = keys.get(key_identifier)
    if key is None:
        raise _refused("Unknown GitHub public key identifier.")
    try:
        key.verify(base64.b64decode(signature, validate=True), body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise _refused("Invalid GitHub signature.") from None


def github_token_hash(token: str) -> str:
    """The `token_hash` GitHub matches answers by: plain SHA-256, not our keyed digest."""
    return hashlib.sha256(token.encode()).hexdigest()


def process_reports(reports: list[dict[str, Any]], client: ClientInfo) -> list[dict[str, str]]:
    """One answer per reported token, in order: `true_positive` for our API keys."""
    answers = []
    for report in reports:
        record = _record_of(report, client)
        answers.append(
            {
                "token_hash": github_token_hash(report["token"]),
                "token_type": report["token_type"],
                "label": FALSE_POSITIVE if record.api_key_id is None else TRUE_POSITIVE,
            }
        )
    return answers


def _record_of(report: dict[str, Any], client: ClientInfo) -> SecretScanningReport:
    token_digest = digest(report["token"])
    record = db.session.get(SecretScanningReport, token_digest)
    if record is not None:
        return record
    try:
        return _first_report(token_digest, report, client)
    except IntegrityError:
        # A concurrent request recorded the same token first: this one is a replay.
        db.session.rollback()
        return db.session.get_one(SecretScanningReport, token_digest)


def _first_report(
    token_digest: str, report: dict[str, Any], client: ClientInfo
) -> SecretScanningReport:
    url, source = report["url"], report["source"]
    record = SecretScanningReport(
        token_digest=token_digest,
        token_type=report["token_type"][:TOKEN_TYPE_LENGTH],
        url=url[:URL_LENGTH] if url else None,
        source=source[:SOURCE_LENGTH] if source else None,
        action=NONE,
    )
    staged: list[RevocationRecord] = []
    api_key = api_keys.find_by_digest(token_digest)
    if api_key is not None:
        record.api_key_id = api_key.id
        record.action, staged = _act_on_leak(api_key, token_digest, record, client)
    db.session.add(record)
    db.session.commit()
    revocations.push(staged)
    return record


def _act_on_leak(
    api_key: ApiKey, token_digest: str, record: SecretScanningReport, client: ClientInfo
) -> tuple[str, list[RevocationRecord]]:
    """The action taken, and the Redis flags to push once the report has committed."""
    where = {"url": record.url, "source": record.source, "token_type": record.token_type}
    acting = current_app.config["SECRET_SCANNING_ACTION"] == REVOKE
    staged: list[RevocationRecord] = []
    previous_secret_leaked = token_digest == api_key.previous_key_digest
    if acting and previous_secret_leaked:
        # The secret a rotation replaced, still in its grace period: ending the grace
        # stops exactly what leaked; the current secret was not reported.
        staged = api_keys.end_grace(api_key)
        action = GRACE_ENDED
    elif acting:
        reason = f"Leaked: found by GitHub secret scanning ({record.source or 'unknown source'})."
        revoked = api_keys.revoke_key(api_key, reason, GITHUB, client, where)
        staged = revoked or []
        action = REVOKED if revoked is not None else ALERTED
    else:
        action = ALERTED
    audit.record(
        "api_key.leak_reported",
        GITHUB,
        client,
        "api_key",
        api_key.id,
        {"name": api_key.name, "prefix": api_key.prefix, "action": action, **where},
    )
    _queue_leak_alert(api_key, token_digest, record, previous_secret_leaked)
    logger.warning(
        "API key %s reported leaked by GitHub secret scanning (%s): %s",
        api_key.id,
        record.source,
        action,
    )
    return action, staged


def _queue_leak_alert(
    api_key: ApiKey, token_digest: str, record: SecretScanningReport, previous_secret_leaked: bool
) -> None:
    found = f"GitHub secret scanning found this API key at {record.url or 'an unnamed place'}"
    found += f" ({record.source})." if record.source else "."
    rotate = f"POST /api/v1/api-keys/{api_key.id}/rotate"
    grace_end = api_key.previous_key_expires_at
    if previous_secret_leaked and grace_end is None:
        consequence = (
            "It is the secret the key's last rotation replaced: its grace period ended "
            "now and requests with it get 401. The key's current secret was not found "
            "and keeps working."
        )
    elif previous_secret_leaked and grace_end is not None:
        consequence = (
            "It is the secret the key's last rotation replaced, which keeps working until "
            f"{grace_end.isoformat()} (grace period): rotate again ({rotate}) to stop it now."
        )
    elif api_key.revoked_at is not None:
        consequence = (
            "The key is revoked: requests with it get 401 until you rotate it "
            f"({rotate}) and put the new secret on your servers."
        )
    else:
        consequence = (
            f"The key still works: rotate it now ({rotate}) and put the new secret on "
            "your servers; the leaked secret stops working at that moment."
        )
    recipient = api_keys.owner_email(api_key)
    alerts.queue_alert(
        event="api_key.leaked",
        subject=f"API key leaked: {api_key.name}",
        summary=f"{found} {consequence} Then remove the secret from where it was found.",
        credential=alerts.Credential(type="api_key", id=api_key.id, name=api_key.name),
        actor=GITHUB,
        client=None,
        recipients=[recipient] if recipient else [],
        dedupe_key=f"api_key.leaked:{token_digest}",
    )
