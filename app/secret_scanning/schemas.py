import marshmallow as ma

TRUE_POSITIVE = "true_positive"
FALSE_POSITIVE = "false_positive"


class LeakReportSchema(ma.Schema):
    """One token of GitHub's report; fields GitHub may add later are ignored."""

    class Meta:
        unknown = ma.EXCLUDE

    token = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1),
        metadata={"description": "The leaked secret. Never stored or logged."},
    )
    token_type = ma.fields.String(
        required=True,
        data_key="type",
        metadata={"description": "The token type registered with GitHub.", "example": "ow_api_key"},
    )
    url = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "Where GitHub found it."},
    )
    source = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Kind of place it was found in, e.g. `commit`.",
            "example": "commit",
        },
    )


class LeakLabelSchema(ma.Schema):
    token_hash = ma.fields.String(
        required=True,
        metadata={"description": "SHA-256 of the reported token, in hex."},
    )
    token_type = ma.fields.String(required=True, metadata={"description": "`type` as reported."})
    label = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf([TRUE_POSITIVE, FALSE_POSITIVE]),
        metadata={
            "description": "`true_positive`: the token is (or was, when first reported) one "
            "of this deployment's API keys."
        },
    )
