from celery import shared_task

from app.api_keys import reminders, services

FLUSH_LAST_USED = "api_keys.flush_last_used"
SEND_REMINDERS = "api_keys.send_reminders"
REMINDER_INTERVAL_SECONDS = 24 * 60 * 60


@shared_task(name=FLUSH_LAST_USED)
def flush_last_used() -> int:
    """Write the recorded key uses to the database (scheduled every LAST_USED_FLUSH_SECONDS)."""
    return services.flush_last_used()


@shared_task(name=SEND_REMINDERS)
def send_reminders() -> dict[str, int]:
    """Daily: queue rotation and unused-key reminders (each delivered like any alert)."""
    return reminders.queue_reminders()
