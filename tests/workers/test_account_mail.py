"""Account mail through a real worker and broker: durable while the broker is down, the
token sealed in the outbox row until sent and erased afterwards."""

import time

import pytest
from sqlalchemy import select

from app.account_mail.models import AccountMail
from app.extensions import db
from tests.support.apps import all_rows_text
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.mail import mailed_link, mails_to
from tests.support.servers import wait_for

pytestmark = pytest.mark.slow

INVITEE = "grace@example.com"


def the_mail(app) -> AccountMail:
    with app.app_context():
        mail = db.session.scalars(select(AccountMail)).one()
        db.session.expunge(mail)
        return mail


def test_invitation_made_while_the_broker_is_down_is_mailed_once_it_returns(
    app, make_app, admin, smtp, broker_proxy, start_worker
):
    api = make_app(CELERY_BROKER_URL=broker_proxy.url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    try:
        client = api.test_client()
        headers = bearer(login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"])
        started = time.monotonic()
        response = client.post("/api/v1/invitations", json={"email": INVITEE}, headers=headers)
        took = time.monotonic() - started
    finally:
        api.extensions["celery"].close()

    assert response.status_code == 201, response.get_json()
    assert took < 10, "an unreachable broker must not hold the request for long"
    token = response.get_json()["accept_url"].partition("#token=")[2]
    pending = the_mail(app)
    assert (pending.status, pending.sealed_token is not None) == ("pending", True)
    assert token not in all_rows_text(app)

    broker_proxy.start()
    worker = start_worker(beat=True, broker=broker_proxy.url)

    wait_for(lambda: mails_to(smtp, INVITEE), what="the invitation mail")
    [message] = mails_to(smtp, INVITEE)
    assert mailed_link(message)[1] == token
    # The SMTP server has the mail before the worker commits the row as sent.
    wait_for(lambda: the_mail(app).status == "sent", what="the mail row marked sent")
    sent = the_mail(app)
    assert (sent.status, sent.sealed_token) == ("sent", None)
    assert token not in worker.log


def test_reset_request_with_a_broker_does_the_same_work_for_any_address(
    app, make_app, admin, smtp, broker_url, start_worker
):
    worker = start_worker()
    api = make_app(CELERY_BROKER_URL=broker_url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    try:
        client = api.test_client()
        for email in ("nobody@example.com", ADMIN_EMAIL):
            response = client.post("/api/v1/auth/forgot-password", json={"email": email})
            assert response.status_code == 202
    finally:
        api.extensions["celery"].close()

    wait_for(lambda: worker.succeeded("account_mail.deliver") == 2, what="both deliveries")
    [message] = smtp.messages
    assert message["X-Envelope-To"] == ADMIN_EMAIL
    token = mailed_link(message)[1]
    assert token not in all_rows_text(app)
    assert token not in worker.log
    with app.app_context():
        assert [m.recipient for m in db.session.scalars(select(AccountMail))] == [ADMIN_EMAIL]
