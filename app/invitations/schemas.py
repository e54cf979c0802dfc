import marshmallow as ma

from app.core.pagination import PageSchema
from app.core.schemas import EmailField, UTCDateTimeField


class InvitationCreateSchema(ma.Schema):
    email = EmailField(required=True)


class InvitationSchema(ma.Schema):
    id = ma.fields.UUID()
    email = ma.fields.String()
    expires_at = UTCDateTimeField()
    invited_by = ma.fields.UUID(
        allow_none=True, metadata={"description": "The developer who (last) sent it."}
    )
    created_at = UTCDateTimeField()


class IssuedInvitationSchema(InvitationSchema):
    accept_url = ma.fields.String(
        metadata={
            "description": "The link the invitee opens; the token is in the #fragment. "
            "Shown only in this response."
        }
    )


class InvitationPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(InvitationSchema))


class AcceptSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=1, max=1024),
        metadata={"description": "12 to 256 characters, not the e-mail, not a common password."},
    )
    first_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=100))
    last_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=100))
