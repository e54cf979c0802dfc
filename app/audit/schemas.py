import marshmallow as ma

from app.core.pagination import CursorPage, CursorQuerySchema
from app.core.schemas import UTCDateTimeField


class AuditQuerySchema(CursorQuerySchema):
    action = ma.fields.String(validate=ma.validate.Length(max=64))
    target_id = ma.fields.String(validate=ma.validate.Length(max=80))


class AuditEventSchema(ma.Schema):
    id = ma.fields.UUID()
    action = ma.fields.String()
    actor_type = ma.fields.String()
    actor_id = ma.fields.String(allow_none=True)
    target_type = ma.fields.String(allow_none=True)
    target_id = ma.fields.String(allow_none=True)
    ip = ma.fields.String(allow_none=True)
    user_agent = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()
    created_at = UTCDateTimeField()


AuditPageSchema = CursorPage(AuditEventSchema, "AuditPageSchema")
