import marshmallow as ma


class RefreshRequestSchema(ma.Schema):
    refresh_token = ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(min=1, max=512),
        metadata={"description": "Required unless the refresh cookie is used (cookie mode)."},
    )


class TokenPairSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["bearer"]))
    refresh_token = ma.fields.String(
        metadata={"example": "rt_…", "description": "Absent in cookie mode (in the cookie)."}
    )
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Access-token lifetime in seconds."}
    )
