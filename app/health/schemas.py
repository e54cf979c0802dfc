import marshmallow as ma


class HealthSchema(ma.Schema):
    status = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["ok", "ready", "degraded"])
    )
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
