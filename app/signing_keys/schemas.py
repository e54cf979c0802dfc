import marshmallow as ma


class JwkSchema(ma.Schema):
    kty = ma.fields.String(required=True, metadata={"example": "EC"})
    crv = ma.fields.String(required=True, metadata={"example": "P-256"})
    x = ma.fields.String(required=True)
    y = ma.fields.String(metadata={"description": "EC keys only."})
    kid = ma.fields.String(
        required=True, metadata={"description": "RFC 7638 thumbprint; the tokens' `kid`."}
    )
    use = ma.fields.String(required=True, metadata={"example": "sig"})
    alg = ma.fields.String(required=True, metadata={"example": "ES256"})


class JwksSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkSchema), required=True)
