"""The API-key credential backend that `app.core.auth` calls for `ow_live_`/`ow_test_` bearers."""

import logging

import redis
from flask import request

from app.api_keys import services
from app.core.auth import Principal

log = logging.getLogger(__name__)


def resolve_api_key(secret: str) -> Principal:
    principal = services.authenticate_key(secret)
    try:
        services.record_use(principal.subject_id, request.remote_addr)
    except redis.RedisError:
        # A missed last-used mark is better than refusing a valid key while Redis is down.
        log.warning(
            "could not record the use of API key %s: Redis unavailable", principal.subject_id
        )
    return principal
