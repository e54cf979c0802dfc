import marshmallow as ma

from app.core.pagination import CursorPaginationSchema, CursorQuerySchema
from app.core.schemas import UTCDateTimeField


class AuditQuerySchema(CursorQuerySchema):
    action = ma.fields.String(validate=ma.validate.Length(max=64))
    target_id = ma.fields.String(validate=ma.validate.Length(max=80))


class AuditEventSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    action = ma.fields.String(required=True)
    actor_type = ma.fields.String(required=True)
    actor_id = ma.fields.String(allow_none=True, required=True)
    target_type = ma.fields.String(allow_none=True, required=True)
    target_id = ma.fields.String(allow_none=True, required=True)
    ip = ma.fields.String(allow_none=True, required=True)
    user_agent = ma.fields.String(allow_none=True, required=True)
    details = ma.fields.Dict(required=True)
    created_at = UTCDateTimeField(required=True)


class AuditPageSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(AuditEventSchema), required=True)
    pagination = ma.fields.Nested(CursorPaginationSchema, required=True)
