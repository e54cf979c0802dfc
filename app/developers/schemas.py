import marshmallow as ma

from app.core.pagination import PageSchema
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


def _name(description: str) -> ma.fields.String:
    return ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=100),
        metadata={"description": description},
    )


def _password(description: str) -> ma.fields.String:
    # Longer than the policy's maximum, so an overlong password is refused by the policy
    # (rule `max_length`) rather than by a generic length message.
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=1, max=1024),
        metadata={"description": description},
    )


class ProfileUpdateSchema(ma.Schema):
    first_name = _name("Given name; null clears it.")
    last_name = _name("Family name; null clears it.")


class ChangePasswordSchema(ma.Schema):
    current_password = _password("The password in use now.")
    new_password = _password("12 to 256 characters, not the e-mail, not a common password.")


class ConfirmPasswordSchema(ma.Schema):
    password = _password("The developer's password.")


class SessionSchema(ma.Schema):
    id = ma.fields.UUID(metadata={"description": "The session (refresh-token family)."})
    created_at = UTCDateTimeField(metadata={"description": "The login that started it."})
    last_used_at = UTCDateTimeField(
        allow_none=True, metadata={"description": "Its latest refresh; null before the first."}
    )
    ip = ma.fields.String(allow_none=True, metadata={"description": "Client of the latest use."})
    user_agent = ma.fields.String(allow_none=True)
    current = ma.fields.Boolean(metadata={"description": "The session of this request."})


class SessionPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(SessionSchema))


class TeamMemberSchema(ma.Schema):
    id = ma.fields.UUID()
    email = ma.fields.String()
    first_name = ma.fields.String(allow_none=True)
    last_name = ma.fields.String(allow_none=True)
    created_at = UTCDateTimeField()
    last_login_at = UTCDateTimeField(allow_none=True)


class TeamPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(TeamMemberSchema))


class ForgotPasswordSchema(ma.Schema):
    email = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=254),
        metadata={"description": "The developer's e-mail (login name)."},
    )


class ResetPasswordSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    new_password = _password("12 to 256 characters, not the e-mail, not a common password.")


class AcceptedSchema(ma.Schema):
    detail = ma.fields.String(metadata={"example": "If that address belongs to a developer, …"})
