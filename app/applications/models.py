"""Applications: the credentials (`app_id` + `app_secret`) a back end mints SDK tokens with."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UUIDPrimaryKey
from app.extensions import Model


class Application(UUIDPrimaryKey, CreatedAt, Model):
    __tablename__ = "applications"

    app_id: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # HMAC digest of the secret, unique so a mint is one indexed lookup by digest.
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
