from celery import shared_task

from app.api_keys import services

FLUSH_LAST_USED = "api_keys.flush_last_used"


@shared_task(name=FLUSH_LAST_USED)
def flush_last_used() -> int:
    """Write the recorded key uses to the database (scheduled every LAST_USED_FLUSH_SECONDS)."""
    return services.flush_last_used()
