"""flask-smorest's Api with our error shape and the bearer security scheme."""

from flask_smorest import Api

from app.core.errors import ErrorSchema, http_error_response


class OpenWearablesApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return http_error_response(error)

    def init_app(self, app, *, spec_kwargs=None):
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.security_scheme(
            "bearerAuth",
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A developer access token, an SDK token or an API key "
                "(`ow_live_…`/`ow_test_…`).",
            },
        )
        self.spec.components.security_scheme(
            "apiKeyHeader",
            {"type": "apiKey", "in": "header", "name": "X-Open-Wearables-API-Key"},
        )
