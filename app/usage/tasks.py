from celery import shared_task

from app.usage import services

ROLL_UP = "usage.roll_up"


@shared_task(name=ROLL_UP)
def roll_up() -> int:
    """Add the finished minutes to the hourly and daily rows; delete expired rows."""
    return services.roll_up()
