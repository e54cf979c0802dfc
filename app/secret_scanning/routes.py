from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import request
from flask.views import MethodView

from app.core.api import Blueprint
from app.core.client import client_info
from app.secret_scanning import services
from app.secret_scanning.schemas import LeakLabelSchema, LeakReportSchema

P = ParamSpec("P")
R = TypeVar("R")
KEY_IDENTIFIER_HEADER = "Github-Public-Key-Identifier"
SIGNATURE_HEADER = "Github-Public-Key-Signature"

blp = Blueprint(
    "secret-scanning",
    __name__,
    url_prefix="/api/v1/secret-scanning",
    description="GitHub secret scanning partner endpoint: leaked API keys are revoked.",
)


def signed_by_github(view: Callable[P, R]) -> Callable[P, R]:
    """The signature is checked on the raw body before it is parsed: an unsigned
    request gets 401 whatever it holds."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        services.verify_signature(
            request.get_data(),
            request.headers.get(KEY_IDENTIFIER_HEADER),
            request.headers.get(SIGNATURE_HEADER),
        )
        return view(*args, **kwargs)

    return wrapper


@blp.route("/reports")
class LeakReports(MethodView):
    @signed_by_github
    @blp.doc(
        operationId="reportLeakedTokens",
        parameters=[
            {
                "in": "header",
                "name": KEY_IDENTIFIER_HEADER,
                "required": True,
                "schema": {"type": "string"},
                "description": "Which of GitHub's secret-scanning public keys signed the body.",
            },
            {
                "in": "header",
                "name": SIGNATURE_HEADER,
                "required": True,
                "schema": {"type": "string"},
                "description": "Base64 DER ECDSA P-256/SHA-256 signature of the raw body.",
            },
        ],
    )
    @blp.arguments(LeakReportSchema(many=True))
    @blp.response(200, LeakLabelSchema(many=True))
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, reports: list[dict[str, Any]]) -> list[dict[str, str]]:
        """Tokens GitHub found in public (signed by GitHub, no other credential).

        Each reported API key is revoked (`SECRET_SCANNING_ACTION=alert`: left
        working), its owner alerted with where it leaked, and the report audited, once
        per token: a replay is answered alike and changes nothing. Answers one label
        per token, in order. Exists only when `SECRET_SCANNING_PUBLIC_KEYS_FILE` is set.
        """
        return services.process_reports(reports, client_info())
