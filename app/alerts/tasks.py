from celery import Task, shared_task

from app.alerts import services

SWEEP = "alerts.sweep"


@shared_task(name=services.DELIVER_TASK, bind=True, max_retries=None)
def deliver_alert(self: Task[[str], None], alert_id: str) -> None:
    delay = services.deliver(alert_id)
    # Without a broker (eager mode) a retry would run at once, inside the request;
    # the row stays pending with its next_attempt_at for the sweep instead.
    if delay is not None and not self.request.is_eager:
        raise self.retry(countdown=delay.total_seconds())


@shared_task(name=SWEEP)
def sweep_alerts() -> int:
    return services.sweep()
