import logging

import redis
from celery import shared_task
from flask import current_app

from app.core import revocation
from app.refresh_tokens import revocations, services

log = logging.getLogger(__name__)

PURGE = "refresh_tokens.purge"
PUSH_REVOCATIONS = "revocations.push"


@shared_task(name=PURGE)
def purge_refresh_tokens() -> dict[str, int]:
    config = current_app.config
    batch_size = config["REFRESH_TOKEN_PURGE_BATCH_SIZE"]
    return {
        **services.purge(config["REFRESH_TOKEN_RETENTION_DAYS"], batch_size),
        "revoked_access_tokens": revocations.purge_expired(batch_size),
    }


@shared_task(name=PUSH_REVOCATIONS)
def push_revocations() -> int:
    """Flag in Redis the revocations decided while it was down; how many were pushed
    (0 while Redis is still down: the next run tries again)."""
    try:
        return revocation.push_unpushed()
    except redis.RedisError as error:
        log.info("revocations not pushed yet, Redis unavailable: %s", error)
        return 0
