import marshmallow as ma

from app.core.pagination import PageQuerySchema, PageSchema
from app.core.schemas import EmailField, UTCDateTimeField


def _name(description: str) -> ma.fields.String:
    return ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=100),
        metadata={"description": description},
    )


class UserWriteSchema(ma.Schema):
    email = EmailField(allow_none=True)
    first_name = _name("Given name.")
    last_name = _name("Family name.")
    external_user_id = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=255),
        metadata={"description": "Your own identifier for this user; unique."},
    )


class UserSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    email = ma.fields.String(allow_none=True, required=True)
    first_name = ma.fields.String(allow_none=True, required=True)
    last_name = ma.fields.String(allow_none=True, required=True)
    external_user_id = ma.fields.String(allow_none=True, required=True)
    created_at = UTCDateTimeField(required=True)


class UserQuerySchema(PageQuerySchema):
    search = ma.fields.String(
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Case-insensitive match on e-mail, names or external id."},
    )
    email = ma.fields.String(validate=ma.validate.Length(max=254))
    external_user_id = ma.fields.String(validate=ma.validate.Length(max=255))


class UserPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(UserSchema), required=True)
