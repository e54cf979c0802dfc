import marshmallow as ma

from app.core.errors import ErrorSchema


class HealthSchema(ma.Schema):
    status = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["ok", "ready", "degraded"])
    )
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


class NotReadySchema(ErrorSchema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["unavailable"]))
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
