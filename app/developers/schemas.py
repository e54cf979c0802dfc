import marshmallow as ma

from app.core.schemas import UTCDateTimeField


class LoginSchema(ma.Schema):
    username = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=254),
        metadata={"description": "The developer's e-mail."},
    )
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024)
    )


class DeveloperSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True, required=True)
    email = ma.fields.String(dump_only=True, required=True)
    first_name = ma.fields.String(dump_only=True, allow_none=True, required=True)
    last_name = ma.fields.String(dump_only=True, allow_none=True, required=True)
    created_at = UTCDateTimeField(dump_only=True, required=True)


class LogoutSchema(ma.Schema):
    refresh_token = ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(min=1, max=512),
        metadata={"description": "Also revoke this refresh token's family."},
    )
