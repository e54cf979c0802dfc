from celery import shared_task
from flask import current_app

from app.refresh_tokens import services

PURGE = "refresh_tokens.purge"


@shared_task(name=PURGE)
def purge_refresh_tokens() -> dict[str, int]:
    config = current_app.config
    return services.purge(
        config["REFRESH_TOKEN_RETENTION_DAYS"], config["REFRESH_TOKEN_PURGE_BATCH_SIZE"]
    )
