from typing import Any

import marshmallow as ma


class AppCredentialsSchema(ma.Schema):
    """Method 1's body. Method 2 (an admin's developer token) sends no body."""

    app_id = ma.fields.String(
        validate=ma.validate.Length(min=1, max=64), metadata={"example": "app_…"}
    )
    app_secret = ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(min=1, max=256),
        metadata={"example": "secret_…"},
    )

    @ma.validates_schema
    def both_or_neither(self, data: dict[str, Any], **kwargs: Any) -> None:
        for given, missing in (("app_id", "app_secret"), ("app_secret", "app_id")):
            if given in data and missing not in data:
                raise ma.ValidationError(f"Send {missing} together with {given}.", missing)
