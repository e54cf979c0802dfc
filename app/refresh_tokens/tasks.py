from celery import shared_task
from flask import current_app

from app.refresh_tokens import services


@shared_task(name="refresh_tokens.purge")
def purge_refresh_tokens() -> dict[str, int]:
    config = current_app.config
    return services.purge(
        config["REFRESH_TOKEN_RETENTION_DAYS"], config["REFRESH_TOKEN_PURGE_BATCH_SIZE"]
    )
