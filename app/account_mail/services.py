import base64
import logging
import uuid
from datetime import timedelta

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, request
from sqlalchemy import delete

from app.account_mail.models import LINK_PLACEHOLDER, PASSWORD_RESET, AccountMail
from app.alerts import channels
from app.core import outbox
from app.core.db import utcnow
from app.core.errors import ApiError
from app.core.outbox import PENDING, SENT
from app.core.tasks import enqueue, enqueue_after_commit
from app.developers import resets
from app.extensions import db

logger = logging.getLogger(__name__)

DELIVER_TASK = "account_mail.deliver"
SWEEP_TASK = "account_mail.sweep"
SMTP_REQUIRED_DETAIL = "Account e-mail is not configured on this server (SMTP_HOST)."


def _fernet() -> Fernet:
    """Fernet keyed from SECRET_KEY (HKDF, its own `info`), so no extra secret to manage;
    rotating SECRET_KEY makes links still in the outbox undeliverable."""
    fernet = current_app.extensions.get("owa_account_mail_fernet")
    if fernet is None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"owa account mail tokens"
        ).derive(current_app.config["SECRET_KEY"].encode())
        fernet = current_app.extensions["owa_account_mail_fernet"] = Fernet(
            base64.urlsafe_b64encode(key)
        )
    return fernet


def seal(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def unseal(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()


def require_mail_transport() -> None:
    """Production without SMTP refuses account mail features rather than lose the mail."""
    config = current_app.config
    if config["APP_ENV"] == "production" and not config["SMTP_HOST"]:
        raise ApiError(503, SMTP_REQUIRED_DETAIL)


def link_prefix(page: str) -> str:
    """`<PUBLIC_BASE_URL or this request's origin><page>#token=`."""
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url
    return f"{base.rstrip('/')}{page}#token="


def queue_mail(
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    link_prefix: str,
    reference_id: uuid.UUID | None = None,
    token: str | None = None,
) -> AccountMail:
    """Add a mail to the caller's transaction; its delivery task is queued after the
    commit, and the sweep sends it if that publish is lost (broker down)."""
    mail = AccountMail(
        id=uuid.uuid4(),
        kind=kind,
        recipient=recipient,
        subject=subject,
        body=body,
        link_prefix=link_prefix,
        reference_id=reference_id,
        sealed_token=seal(token) if token else None,
        status=PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(mail)
    enqueue_after_commit(DELIVER_TASK, str(mail.id))
    return mail


def discard_unsent(reference_id: uuid.UUID) -> None:
    """Drop the mails of an invitation that was revoked or re-issued: their links are dead."""
    db.session.execute(
        delete(AccountMail).where(
            AccountMail.reference_id == reference_id, AccountMail.status == PENDING
        )
    )


def _issue_reset_token(mail: AccountMail) -> bool:
    """A reset mail carries only the address until a worker handles it, so asking costs
    the request the same whether or not the address is known. Returns False (and drops
    the mail) when no active developer has that address."""
    token = resets.issue(mail.recipient, mail.created_at)
    if token is None:
        db.session.delete(mail)
        db.session.commit()
        return False
    mail.sealed_token = seal(token)
    db.session.commit()
    return True


def _print_to_console(mail: AccountMail, text: str) -> None:
    # Development only (production refuses account mail without SMTP): `make run`
    # users follow the link from the terminal. Printed, not logged: logs never hold it.
    print(f"--- account mail to {mail.recipient}: {mail.subject}\n{text}\n---", flush=True)


def deliver(mail_id: str) -> timedelta | None:
    """One delivery attempt; returns the delay before the next one when one is due."""
    mail = outbox.claim(
        AccountMail, uuid.UUID(mail_id), current_app.config["ALERT_DELIVERY_LEASE_SECONDS"]
    )
    if mail is None:
        return None
    if mail.kind == PASSWORD_RESET and mail.sealed_token is None and not _issue_reset_token(mail):
        return None
    config = current_app.config
    try:
        text = mail.body.replace(LINK_PLACEHOLDER, mail.link_prefix + unseal(mail.sealed_token))
        if config["SMTP_HOST"]:
            channels.send_mail(
                config, [mail.recipient], mail.subject, text, f"<account-{mail.id}@open-wearables>"
            )
        else:
            _print_to_console(mail, text)
    except Exception as error:
        db.session.rollback()
        return _failed_attempt(mail, error)
    outbox.mark(
        AccountMail, mail.id, status=SENT, sent_at=utcnow(), sealed_token=None, claimed_until=None
    )
    return None


def _failed_attempt(mail: AccountMail, error: Exception) -> timedelta | None:
    config = current_app.config
    return outbox.record_failure(
        AccountMail,
        mail,
        error,
        config["ALERT_MAX_ATTEMPTS"],
        config["ALERT_RETRY_BASE_SECONDS"],
        sealed_token=None,
    )


def sweep() -> int:
    """Re-queue mails whose task was lost (broker down after the commit, worker died)."""
    mail_ids = outbox.lost_ids(AccountMail, current_app.config["ALERT_SWEEP_SECONDS"])
    return sum(enqueue(DELIVER_TASK, str(mail_id)) for mail_id in mail_ids)
