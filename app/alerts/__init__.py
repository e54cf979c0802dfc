"""Security alerts (credential rotated, refresh-token reuse, reminders) via an outbox.

`queue_alert` adds a row to the caller's transaction, so the alert is durable exactly
when the change it reports is. After the commit a task delivers it by e-mail and, when
configured, a signed webhook; a periodic sweep re-queues rows whose task was lost.
"""

from flask import Flask

from app.core.tasks import register_periodic_task


def register(app: Flask) -> None:
    from app.alerts.tasks import SWEEP

    register_periodic_task(app, SWEEP, app.config["ALERT_SWEEP_SECONDS"])
