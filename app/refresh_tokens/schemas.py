import marshmallow as ma


class RefreshRequestSchema(ma.Schema):
    refresh_token = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=512)
    )


class TokenPairSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["bearer"]))
    refresh_token = ma.fields.String(required=True, metadata={"example": "rt_…"})
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Access-token lifetime in seconds."}
    )
