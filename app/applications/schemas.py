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
    id = ma.fields.UUID()
    app_id = ma.fields.String(metadata={"example": "app_…"})
    name = ma.fields.String()
    created_at = UTCDateTimeField()


class ApplicationWithSecretSchema(ApplicationSchema):
    app_secret = ma.fields.String(
        metadata={"description": "Shown on creation and rotation only.", "example": "secret_…"}
    )


class ApplicationQuerySchema(PageQuerySchema):
    pass


class ApplicationPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ApplicationSchema))
