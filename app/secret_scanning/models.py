from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt
from app.extensions import Model

TOKEN_TYPE_LENGTH = 100
URL_LENGTH = 2000
SOURCE_LENGTH = 100


class SecretScanningReport(CreatedAt, Model):
    """The first report of each token GitHub sent; a replay is answered from it and
    changes nothing. Keyed by the token's digest: the token itself is never stored."""

    __tablename__ = "secret_scanning_reports"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_type: Mapped[str] = mapped_column(String(TOKEN_TYPE_LENGTH), nullable=False)
    url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    source: Mapped[str | None] = mapped_column(String(SOURCE_LENGTH))
    api_key_id: Mapped[str | None] = mapped_column(String(40))
    """The API key the token was when reported (kept after the key is deleted); None
    when the token was none of ours."""
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    """`revoked`, `grace_ended` (the token was a rotation's previous secret, stopped at
    once), `alerted` (the key was left as it was) or `none` (not one of ours)."""
