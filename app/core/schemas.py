"""Marshmallow pieces shared by every feature's schemas."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma


def normalise_email(email: str) -> str:
    """The one spelling of an address that is stored, compared and rate-limited."""
    return email.strip().lower()


class EmailField(ma.fields.Email):
    """An e-mail address, normalised before it is validated: lowercasing can lengthen
    it ("İ" becomes two code points), so the length checked is the length stored."""

    def __init__(self, **kwargs: Any) -> None:
        # 254: the longest address SMTP carries (RFC 5321), and the columns' size.
        super().__init__(validate=ma.validate.Length(max=254), **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        return normalise_email(super()._deserialize(value, attr, data, **kwargs))


class UTCDateTimeField(ma.fields.DateTime):
    """Serialises as `2026-03-07T10:30:00Z`, the shape the public docs show."""

    def _serialize(
        self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any
    ) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        # isoformat, not strftime: "%Y" does not pad years before 1000 to four digits.
        return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            raise ma.ValidationError("Include a UTC offset, e.g. 2026-03-07T10:30:00Z.")
        try:
            return parsed.astimezone(UTC)
        except OverflowError as error:
            raise ma.ValidationError("Not a representable UTC date-time.") from error
