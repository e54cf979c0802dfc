"""Password-reset tokens: issued by the mail worker, redeemed once by reset-password."""

import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.core.db import rows_changed, utcnow
from app.core.secrets import digest, generate_secret, is_well_formed
from app.developers.models import Developer, PasswordReset
from app.extensions import db

RESET_TOKEN_PREFIX = "pwr_"


def issue(email: str, requested_at: datetime) -> str | None:
    """A new reset token for the active developer with this e-mail (None without one,
    or when the password changed since the request), valid
    PASSWORD_RESET_EXPIRES_MINUTES from the request. The caller commits."""
    developer = db.session.scalar(
        select(Developer).where(Developer.email == email, Developer.is_active.is_(True))
    )
    if developer is None:
        return None
    changed_at = developer.password_changed_at
    if changed_at is not None and changed_at >= requested_at:
        # Mailed after a change, the link would undo it: as void as those already sent.
        return None
    token = generate_secret(RESET_TOKEN_PREFIX)
    lifetime = timedelta(minutes=current_app.config["PASSWORD_RESET_EXPIRES_MINUTES"])
    db.session.add(
        PasswordReset(
            developer_id=developer.id,
            token_digest=digest(token),
            expires_at=requested_at + lifetime,
        )
    )
    return token


def redeem(token: str) -> Developer | None:
    """Use up a live reset token (exactly once, even under concurrency) and every other
    reset of the same developer; the developer, or None for a bad token. Not committed."""
    if not is_well_formed(token, RESET_TOKEN_PREFIX):
        return None
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_digest == digest(token))
    )
    now = utcnow()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    # This link itself, unused still: the read above may predate a redeem that used it
    # up (and a newer link the other resets below would count as consumed).
    consumed = rows_changed(
        db.session.execute(
            update(PasswordReset)
            .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )
    )
    use_up_every_link(reset.developer_id)
    developer = db.session.get(Developer, reset.developer_id)
    if consumed == 0 or developer is None or not developer.is_active:
        return None
    return developer


def use_up_every_link(developer_id: uuid.UUID) -> int:
    """Mark the developer's unused reset tokens used, in the current transaction: once
    the password is set, by a reset or a change, no older link may set it again. How
    many were unused."""
    return rows_changed(
        db.session.execute(
            update(PasswordReset)
            .where(PasswordReset.developer_id == developer_id, PasswordReset.used_at.is_(None))
            .values(used_at=utcnow())
        )
    )
