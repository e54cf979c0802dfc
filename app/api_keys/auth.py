"""The API-key credential backend that `app.core.auth` calls for `ow_live_`/`ow_test_` bearers."""

from flask import request

from app.api_keys import services
from app.core.auth import Principal


def resolve_api_key(secret: str) -> Principal:
    principal = services.authenticate_key(secret)
    services.record_use(principal.subject_id, request.remote_addr)
    return principal
