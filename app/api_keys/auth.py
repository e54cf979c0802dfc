"""The API-key credential backend that `app.core.auth` calls for `ow_live_`/`ow_test_` bearers."""

import logging

import redis
from flask import request

from app.api_keys import services
from app.core.auth import Principal
from app.core.outages import outage_log

log = logging.getLogger(__name__)


def resolve_api_key(secret: str) -> Principal:
    principal = services.authenticate_key(secret)
    # One warning when recording uses starts failing, one summary when it works again.
    last_use_outage = outage_log("Redis", "requests served without last-use marks", log)
    try:
        services.record_use(principal.subject_id, request.remote_addr)
    except redis.RedisError as error:
        # A missed last-used mark is better than refusing a valid key while Redis is down.
        last_use_outage.failed(error)
    else:
        last_use_outage.recovered()
    return principal
