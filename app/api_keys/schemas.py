from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from app.core.schemas import UTCDateTimeField

NAME = ma.validate.Length(min=1, max=100)
ENVIRONMENTS = ma.validate.OneOf(["live", "test"])


class ApiKeyCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=NAME)
    environment = ma.fields.String(load_default="live", validate=ENVIRONMENTS)
    expires_at = UTCDateTimeField(
        allow_none=True, metadata={"description": "Optional expiry (ISO 8601 with offset)."}
    )

    @ma.validates("expires_at")
    def _in_the_future(self, value: datetime | None, **kwargs: Any) -> None:
        if value is not None and value <= datetime.now(UTC):
            raise ma.ValidationError("Must be in the future.")


class ApiKeyRenameSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=NAME)


GRACE_LIMIT_SECONDS = 86_400


class ApiKeyRotateSchema(ma.Schema):
    grace_seconds = ma.fields.Integer(
        load_default=0,
        strict=True,
        validate=ma.validate.Range(min=0, max=GRACE_LIMIT_SECONDS),
        metadata={
            "description": "Keep the previous secret working this many seconds (0, the "
            "default: it stops at once; at most 86400)."
        },
    )


class ApiKeySchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "key_abc123def456"}, required=True)
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(
        metadata={"description": "First characters of the key."}, required=True
    )
    environment = ma.fields.String(validate=ENVIRONMENTS, required=True)
    created_at = UTCDateTimeField(required=True)
    last_used_at = UTCDateTimeField(allow_none=True, required=True)
    last_used_ip = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Client IP of the use in `last_used_at`."},
    )
    expires_at = UTCDateTimeField(allow_none=True, required=True)
    rotated_at = UTCDateTimeField(allow_none=True, required=True)
    created_by = ma.fields.UUID(allow_none=True, required=True)
    previous_key_expires_at = UTCDateTimeField(
        allow_none=True,
        required=True,
        metadata={
            "description": "When the secret replaced by the last rotation stops working "
            "(a rotation with `grace_seconds`); null when it stopped at once."
        },
    )
    revoked_at = UTCDateTimeField(
        allow_none=True,
        required=True,
        metadata={
            "description": "When the key was revoked (e.g. found leaked); a revoked key "
            "gets 401 until it is rotated. Null while the key works."
        },
    )
    revoked_reason = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Why the key was revoked; null while the key works."},
    )


class ApiKeyWithSecretSchema(ApiKeySchema):
    key = ma.fields.String(
        metadata={"description": "The key itself. Shown only now; store it securely."},
        required=True,
    )
