import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from app.core.auth import API_KEY_SCOPES
from app.core.schemas import UTCDateTimeField

NAME = ma.validate.Length(min=1, max=100)
ENVIRONMENTS = ma.validate.OneOf(["live", "test"])
ALLOWED_IPS_LIMIT = 100
SCOPES_DESCRIPTION = (
    "Restrict the key to these scopes ("
    + ", ".join(f"`{scope}`" for scope in API_KEY_SCOPES)
    + "); each operation an API key can call names the scope it needs "
    "(`x-required-scope`). Null: every scope (full access)."
)
ALLOWED_IPS_DESCRIPTION = (
    "Networks (CIDR, IPv4 or IPv6; a bare address is one host) the key may be used "
    f"from, at most {ALLOWED_IPS_LIMIT}; from elsewhere it gets 403. Null: anywhere."
)


def _network(entry: str) -> str:
    try:
        return str(ipaddress.ip_network(entry.strip()))
    except ValueError as error:
        raise ma.ValidationError(f"'{entry}' is not a network (CIDR): {error}.") from error


def _scopes(scopes: list[str]) -> list[str]:
    """In the vocabulary's order, each once."""
    return [scope for scope in API_KEY_SCOPES if scope in scopes]


def _networks(entries: list[str]) -> list[str]:
    """Normalised (`10.0.0.1` → `10.0.0.1/32`), each once, in the order given."""
    return list(dict.fromkeys(_network(entry) for entry in entries))


class Restriction(ma.fields.List[str]):
    """A nullable, non-empty list, normalised once valid (null: no restriction)."""

    def __init__(
        self,
        item: ma.fields.String,
        normalise: Callable[[list[str]], list[str]],
        longest: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            item,
            allow_none=True,
            validate=ma.validate.Length(
                min=1,
                max=longest,
                error=f"Give 1 to {longest} entries, or null for no restriction.",
            ),
            **kwargs,
        )
        self.normalise = normalise

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> list[str | None]:
        entries = super()._deserialize(value, attr, data, **kwargs)
        return list(self.normalise([str(entry) for entry in entries]))


def scopes_field(**kwargs: Any) -> Restriction:
    return Restriction(
        ma.fields.String(
            validate=ma.validate.OneOf(
                list(API_KEY_SCOPES), error="Unknown scope '{input}'; one of: {choices}."
            )
        ),
        _scopes,
        len(API_KEY_SCOPES),
        metadata={"description": SCOPES_DESCRIPTION},
        **kwargs,
    )


def allowed_ips_field(**kwargs: Any) -> Restriction:
    return Restriction(
        ma.fields.String(validate=_network, metadata={"example": "203.0.113.0/24"}),
        _networks,
        ALLOWED_IPS_LIMIT,
        metadata={"description": ALLOWED_IPS_DESCRIPTION},
        **kwargs,
    )


class ApiKeyCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=NAME)
    environment = ma.fields.String(load_default="live", validate=ENVIRONMENTS)
    expires_at = UTCDateTimeField(
        allow_none=True, metadata={"description": "Optional expiry (ISO 8601 with offset)."}
    )
    scopes = scopes_field(load_default=None)
    allowed_ips = allowed_ips_field(load_default=None)

    @ma.validates("expires_at")
    def _in_the_future(self, value: datetime | None, **kwargs: Any) -> None:
        if value is not None and value <= datetime.now(UTC):
            raise ma.ValidationError("Must be in the future.")


UPDATABLE = ("name", "scopes", "allowed_ips")


class ApiKeyUpdateSchema(ma.Schema):
    """Any of the fields; those left out keep their value."""

    name = ma.fields.String(validate=NAME)
    scopes = scopes_field()
    allowed_ips = allowed_ips_field()

    @ma.validates_schema
    def _something_to_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not any(field in data for field in UPDATABLE):
            raise ma.ValidationError(f"Give at least one of: {', '.join(UPDATABLE)}.")


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
    scopes = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(list(API_KEY_SCOPES))),
        allow_none=True,
        required=True,
        metadata={"description": SCOPES_DESCRIPTION},
    )
    allowed_ips = ma.fields.List(
        ma.fields.String(metadata={"example": "203.0.113.0/24"}),
        allow_none=True,
        required=True,
        metadata={"description": ALLOWED_IPS_DESCRIPTION},
    )


class ApiKeyWithSecretSchema(ApiKeySchema):
    key = ma.fields.String(
        metadata={"description": "The key itself. Shown only now; store it securely."},
        required=True,
    )
