from celery import shared_task
from celery.app.task import Task

from app.account_mail import services


@shared_task(name=services.DELIVER_TASK, bind=True, max_retries=None)
def deliver_account_mail(self: Task, mail_id: str) -> None:
    delay = services.deliver(mail_id)
    # Eagerly (no broker) a retry would run inside the request: the sweep retries instead.
    if delay is not None and not self.request.is_eager:
        raise self.retry(countdown=delay.total_seconds())


SWEEP = services.SWEEP_TASK


@shared_task(name=SWEEP)
def sweep_account_mail() -> int:
    return services.sweep()
