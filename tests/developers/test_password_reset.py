"""Forgotten password: one mail to a known address, a single-use link, sessions end."""

import logging

import psycopg
import pytest
from sqlalchemy import func, select

from app.account_mail import services as account_mail
from app.account_mail.models import AccountMail
from app.developers import resets
from app.extensions import db
from app.refresh_tokens import services as refresh_tokens
from tests.support.apps import all_rows_text
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.factories import session_is_dead
from tests.support.mail import mailed_link, smtp_settings

NEW_PASSWORD = "my recovered passphrase"
ACCEPTED = {
    "detail": "If that address belongs to a developer, a password-reset link is on its way to it."
}


@pytest.fixture
def config_overrides(mail_server):
    return {**smtp_settings(mail_server), "ALERT_EMAIL_TO": "security@example.com"}


def forgot(client, email=ADMIN_EMAIL, **options):
    return client.post("/api/v1/auth/forgot-password", json={"email": email}, **options)


def reset(client, token, password=NEW_PASSWORD):
    return client.post(
        "/api/v1/auth/reset-password", json={"token": token, "new_password": password}
    )


def test_reset_link_sets_a_new_password_once_and_ends_every_session(
    app, client, admin, admin_tokens, mail_server, caplog
):
    caplog.set_level(logging.DEBUG)

    response = forgot(client, "  Admin@Example.com ")

    assert response.status_code == 202
    assert response.get_json() == ACCEPTED
    [message] = mail_server.messages
    assert message["X-Envelope-To"] == ADMIN_EMAIL
    assert message["To"] == ADMIN_EMAIL
    link, token = mailed_link(message)
    assert link.startswith("http://localhost/dashboard/reset-password#token=pwr_")
    assert token not in all_rows_text(app)

    assert reset(client, token).status_code == 204
    assert session_is_dead(client, admin_tokens)
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 401
    assert login(client, ADMIN_EMAIL, NEW_PASSWORD).status_code == 200

    again = reset(client, token, "yet another passphrase")
    assert again.status_code == 400
    assert again.get_json() == {"detail": "This reset link is invalid, expired or already used."}

    rows = all_rows_text(app)
    for secret in (token, NEW_PASSWORD):
        assert secret not in rows
        assert secret not in caplog.text


def test_a_password_change_voids_the_reset_links_sent_before_it(
    client, admin, admin_tokens, mail_server
):
    forgot(client)
    [message] = mail_server.messages
    _, token = mailed_link(message)
    changed = client.post(
        "/api/v1/auth/change-password",
        json={"current_password": ADMIN_PASSWORD, "new_password": "my changed passphrase"},
        headers=bearer(admin_tokens["access_token"]),
    )
    assert changed.status_code == 204

    response = reset(client, token)

    assert response.status_code == 400
    assert response.get_json() == {"detail": "This reset link is invalid, expired or already used."}
    assert login(client, ADMIN_EMAIL, NEW_PASSWORD).status_code == 401
    assert login(client, ADMIN_EMAIL, "my changed passphrase").status_code == 200


def test_unknown_address_gets_the_same_answer_and_no_mail(app, client, admin, mail_server):
    response = forgot(client, "nobody@example.com")

    assert response.status_code == 202
    assert response.get_json() == ACCEPTED
    assert mail_server.messages == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AccountMail)) == 0


def test_deactivated_developer_gets_no_mail(app, client, admin, mail_server):
    from app.developers.models import Developer

    with app.app_context():
        db.session.execute(db.update(Developer).values(is_active=False))
        db.session.commit()

    assert forgot(client).status_code == 202
    assert mail_server.messages == []


def test_a_refused_password_leaves_the_link_usable(client, admin, mail_server):
    forgot(client)
    _, token = mailed_link(mail_server.messages[0])

    refused = reset(client, token, "password")

    assert refused.status_code == 422
    assert refused.get_json()["errors"]["new_password"][0].startswith("min_length:")
    assert reset(client, token).status_code == 204


@pytest.mark.parametrize("token", ["pwr_nonsense", "rt_" + "a" * 38, ""])
def test_bad_tokens_are_refused(client, admin, token):
    response = reset(client, token)
    assert response.status_code in (400, 422)
    assert "detail" in response.get_json()


def test_expired_link_is_refused(make_app, admin, mail_server):
    client = make_app(**smtp_settings(mail_server), PASSWORD_RESET_EXPIRES_MINUTES=0).test_client()
    forgot(client)
    _, token = mailed_link(mail_server.messages[0])

    assert reset(client, token).status_code == 400
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200


def test_requests_are_limited_per_email_known_or_not(make_app, admin, mail_server):
    client = make_app(
        **smtp_settings(mail_server), RATELIMIT_PASSWORD_RESETS_PER_EMAIL="2 per hour"
    ).test_client()
    for email in (ADMIN_EMAIL, "nobody@example.com"):
        assert [forgot(client, email).status_code for _ in range(3)] == [202, 202, 429]
    assert len(mail_server.messages) == 2


def test_requests_are_limited_per_ip(make_app, admin, mail_server):
    client = make_app(
        **smtp_settings(mail_server), RATELIMIT_PASSWORD_RESETS_PER_IP="3 per hour"
    ).test_client()
    statuses = [forgot(client, f"person{n}@example.com").status_code for n in range(4)]
    assert statuses == [202, 202, 202, 429]


def test_links_use_public_base_url(make_app, admin, mail_server):
    client = make_app(
        **smtp_settings(mail_server), PUBLIC_BASE_URL="https://wearables.example.com/"
    ).test_client()
    forgot(client)
    link, _ = mailed_link(mail_server.messages[0])
    assert link.startswith("https://wearables.example.com/dashboard/reset-password#token=pwr_")


def test_production_without_smtp_refuses_account_mail(make_app, admin):
    client = make_app(
        APP_ENV="production", PUBLIC_BASE_URL="https://localhost", SMTP_HOST=""
    ).test_client()

    response = forgot(client, base_url="https://localhost")

    assert response.status_code == 503
    assert response.get_json() == {
        "detail": "Account e-mail is not configured on this server (SMTP_HOST)."
    }


def test_development_without_smtp_prints_the_mail(make_app, admin, capsys):
    client = make_app(SMTP_HOST="").test_client()

    assert forgot(client).status_code == 202

    printed = capsys.readouterr().out
    assert f"account mail to {ADMIN_EMAIL}" in printed
    assert "/dashboard/reset-password#token=pwr_" in printed


def test_a_reset_interrupted_before_the_sessions_end_changes_nothing(
    client, admin, admin_tokens, mail_server, monkeypatch
):
    assert forgot(client).status_code == 202
    _, token = mailed_link(mail_server.messages[-1])

    def killed_while_revoking(*_):
        raise RuntimeError("the worker died before the sessions ended")

    monkeypatch.setattr(refresh_tokens, "revoke_families", killed_while_revoking)
    assert reset(client, token).status_code == 500
    monkeypatch.undo()

    assert login(client, ADMIN_EMAIL, NEW_PASSWORD).status_code == 401
    assert (
        client.get("/api/v1/auth/me", headers=bearer(admin_tokens["access_token"])).status_code
        == 200
    )
    assert reset(client, token).status_code == 204  # the link was not used up either
    assert session_is_dead(client, admin_tokens)


def test_a_link_used_up_while_it_is_redeemed_sets_no_password(
    client, admin, mail_server, database_url, monkeypatch
):
    """Another worker redeems the same link between this redeem's read and its write,
    and a newer link is mailed meanwhile: this redeem must not count the newer link."""
    assert forgot(client).status_code == 202
    _, token = mailed_link(mail_server.messages[-1])
    read_the_clock = resets.utcnow
    interleaved = []

    def after_the_read():
        if not interleaved:
            interleaved.append(True)
            with psycopg.connect(database_url) as other_worker:
                other_worker.execute(
                    "UPDATE password_resets SET used_at = now() WHERE used_at IS NULL"
                )
                other_worker.execute(
                    "INSERT INTO password_resets (id, developer_id, token_digest, expires_at,"
                    " created_at) SELECT gen_random_uuid(), developer_id, 'a newer link',"
                    " expires_at, now() FROM password_resets LIMIT 1"
                )
        return read_the_clock()

    monkeypatch.setattr(resets, "utcnow", after_the_read)
    response = reset(client, token)

    assert interleaved
    assert response.status_code == 400
    assert response.get_json() == {"detail": "This reset link is invalid, expired or already used."}
    assert login(client, ADMIN_EMAIL, NEW_PASSWORD).status_code == 401


def test_a_reset_requested_before_a_password_change_and_mailed_after_it_sends_no_link(
    make_app, admin, mail_server
):
    """The worker makes the link when it sends the mail: late, the link would undo the
    change, so the mail is dropped like one to an unknown address."""
    queued = make_app(
        **smtp_settings(mail_server), CELERY_BROKER_URL="memory://localhost/"
    )  # a broker no worker reads: the mail waits in the outbox
    client = queued.test_client()
    tokens = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    assert forgot(client).status_code == 202
    changed = client.post(
        "/api/v1/auth/change-password",
        json={"current_password": ADMIN_PASSWORD, "new_password": "my changed passphrase"},
        headers=bearer(tokens["access_token"]),
    )
    assert changed.status_code == 204

    with queued.app_context():
        [mail_id] = db.session.scalars(select(AccountMail.id)).all()
        account_mail.deliver(str(mail_id))
        assert db.session.scalar(select(func.count()).select_from(AccountMail)) == 0
        db.session.remove()
    assert mail_server.messages == []
