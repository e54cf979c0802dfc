import marshmallow as ma

TOKEN_TYPE_HINTS = ("access_token", "refresh_token")


class TokenSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=1, max=4096),
        metadata={"description": "An access token (JWT) or a refresh token (`rt_…`)."},
    )
    token_type_hint = ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(max=64),
        metadata={
            "description": "`access_token` or `refresh_token`. Optional and not needed: "
            "the token's shape tells its type, and other values are ignored (RFC 7009 §2.1).",
        },
    )


class IntrospectionSchema(ma.Schema):
    """RFC 7662 §2.2. Inactive tokens answer `{"active": false}` and nothing else."""

    active = ma.fields.Boolean(required=True)
    token_type = ma.fields.String(metadata={"description": "`access_token` or `refresh_token`."})
    type = ma.fields.String(metadata={"description": "`developer` or `sdk`."})
    sub = ma.fields.String(metadata={"description": "Developer id or end-user id."})
    app_id = ma.fields.String(
        metadata={"description": "SDK tokens: the application's `app_id` or `admin:{id}`."}
    )
    iat = ma.fields.Integer(metadata={"description": "Issued at (epoch seconds)."})
    exp = ma.fields.Integer(metadata={"description": "Expires at (epoch seconds)."})
    jti = ma.fields.String(metadata={"description": "Access tokens: the token id."})
    sid = ma.fields.String(metadata={"description": "The session (refresh-token family)."})
