import marshmallow as ma

from app.core.pagination import PageQuerySchema, PageSchema
from app.core.schemas import UTCDateTimeField


class ApplicationWriteSchema(ma.Schema):
    name = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "A label for people, e.g. `My Mobile App`."},
    )


class RotateSecretSchema(ma.Schema):
    revoke_sessions = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Also end every SDK session minted with this application "
            "(use when the old secret leaked)."
        },
    )


class ApplicationSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    app_id = ma.fields.String(metadata={"example": "app_…"}, required=True)
    name = ma.fields.String(required=True)
    created_at = UTCDateTimeField(required=True)


class ApplicationWithSecretSchema(ApplicationSchema):
    app_secret = ma.fields.String(
        metadata={"description": "Shown on creation and rotation only.", "example": "secret_…"},
        required=True,
    )


class ApplicationQuerySchema(PageQuerySchema):
    pass


class ApplicationPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ApplicationSchema), required=True)
