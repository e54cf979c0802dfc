"""Inviting a colleague: fresh session, one mail with the link, single-use acceptance."""

import logging
import time

import psycopg
import pytest
from sqlalchemy import select

from app.alerts.models import Alert
from app.developers import services as developers
from app.extensions import db
from app.invitations import services
from tests.support.apps import all_rows_text
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.mail import mailed_link, mails_to, smtp_settings

INVITEE = "grace@example.com"
INVITEE_PASSWORD = "grace's own passphrase"
ENVELOPE = {"items", "total", "page", "limit", "pages", "has_next", "has_prev"}


@pytest.fixture
def config_overrides(mail_server):
    return {**smtp_settings(mail_server), "ALERT_EMAIL_TO": "security@example.com"}


def invite(client, headers, email=INVITEE):
    return client.post("/api/v1/invitations", json={"email": email}, headers=headers)


def accept(client, token, password=INVITEE_PASSWORD, **names):
    return client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": password, **names}
    )


def test_invite_mail_accept_and_log_in(app, client, admin, admin_headers, mail_server, caplog):
    caplog.set_level(logging.DEBUG)

    response = invite(client, admin_headers, "Grace@Example.com")

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "email", "expires_at", "invited_by", "created_at", "accept_url"}
    assert body["email"] == INVITEE
    assert body["invited_by"] == admin["id"]
    assert body["accept_url"].startswith("http://localhost/dashboard/accept-invitation#token=inv_")
    [message] = mails_to(mail_server, INVITEE)
    assert message["To"] == INVITEE
    link, token = mailed_link(message)
    assert link == body["accept_url"]
    assert ADMIN_EMAIL in message.get_payload(decode=True).decode()

    listed = client.get("/api/v1/invitations", headers=admin_headers).get_json()
    assert set(listed) == ENVELOPE
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert "accept_url" not in listed["items"][0]

    accepted = accept(client, token, first_name="Grace", last_name="Hopper")
    assert accepted.status_code == 201, accepted.get_json()
    developer = accepted.get_json()
    assert (developer["email"], developer["first_name"]) == (INVITEE, "Grace")
    assert login(client, INVITEE, INVITEE_PASSWORD).status_code == 200
    assert client.get("/api/v1/invitations", headers=admin_headers).get_json()["total"] == 0

    reused = accept(client, token, "a different passphrase")
    assert reused.status_code == 410
    assert reused.get_json() == {"detail": "This invitation has already been used."}

    rows = all_rows_text(app)
    for secret in (token, INVITEE_PASSWORD):
        assert secret not in rows
        assert secret not in caplog.text
    with app.app_context():
        [alert] = db.session.scalars(select(Alert)).all()
        assert alert.event == "invitation.created"
        assert alert.recipients == sorted([ADMIN_EMAIL, "security@example.com"])
        assert token not in str(alert.payload)
    [alert_mail] = mails_to(mail_server, f"{ADMIN_EMAIL}, security@example.com")
    assert alert_mail["Subject"] == f"{ADMIN_EMAIL} invited {INVITEE}"
    assert token not in alert_mail.as_string()


def test_invitation_needs_a_fresh_session(make_app, admin, mail_server):
    client = make_app(**smtp_settings(mail_server), REAUTH_MAX_AGE_SECONDS=1).test_client()
    headers = bearer(login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"])
    time.sleep(1.5)

    stale = invite(client, headers)
    assert stale.status_code == 403
    assert stale.get_json() == {"detail": "Please confirm your password."}
    assert mails_to(mail_server, INVITEE) == []

    confirmed = client.post(
        "/api/v1/auth/confirm-password", json={"password": ADMIN_PASSWORD}, headers=headers
    )
    assert confirmed.status_code == 204
    assert invite(client, headers).status_code == 201


def test_existing_developer_or_pending_invitation_is_409(client, admin, admin_headers):
    existing = invite(client, admin_headers, ADMIN_EMAIL.upper())
    assert existing.status_code == 409
    assert existing.get_json() == {"detail": "A developer with this e-mail already exists."}
    assert invite(client, admin_headers).status_code == 201
    assert invite(client, admin_headers).status_code == 409


def test_an_address_too_long_once_lowercased_is_422(client, admin, admin_headers):
    # "İ" lowercases to two code points: 254 characters as sent, 258 as stored.
    domain = ".".join(["İ" + "b" * 40] * 4) + ".com"
    address = "a" * (253 - len(domain)) + "@" + domain

    response = invite(client, admin_headers, address)

    assert response.status_code == 422
    assert "email" in response.get_json()["errors"]
    assert client.get("/api/v1/invitations", headers=admin_headers).get_json()["items"] == []


def test_resend_issues_a_new_link_and_kills_the_old_one(client, admin, admin_headers, mail_server):
    first = invite(client, admin_headers).get_json()

    resent = client.post(f"/api/v1/invitations/{first['id']}/resend", headers=admin_headers)

    assert resent.status_code == 200
    body = resent.get_json()
    assert body["accept_url"] != first["accept_url"]
    assert body["id"] == first["id"]
    assert [mailed_link(m)[0] for m in mails_to(mail_server, INVITEE)] == [
        first["accept_url"],
        body["accept_url"],
    ]
    old_token = first["accept_url"].partition("#token=")[2]
    assert accept(client, old_token).status_code == 400
    assert accept(client, body["accept_url"].partition("#token=")[2]).status_code == 201


def test_revoked_invitation_cannot_be_accepted(client, admin, admin_headers):
    issued = invite(client, admin_headers).get_json()

    revoked = client.delete(f"/api/v1/invitations/{issued['id']}", headers=admin_headers)

    assert revoked.status_code == 204
    response = accept(client, issued["accept_url"].partition("#token=")[2])
    assert response.status_code == 410
    assert response.get_json() == {"detail": "This invitation has been revoked."}
    assert client.get("/api/v1/invitations", headers=admin_headers).get_json()["items"] == []
    again = client.delete(f"/api/v1/invitations/{issued['id']}", headers=admin_headers)
    assert again.status_code == 404


def test_removing_a_developer_revokes_the_invitations_they_sent(app, client, admin, admin_headers):
    inviter = ("ada.colleague@example.com", "the colleague's passphrase")
    with app.app_context():
        inviter_id = str(developers.create_developer(*inviter).id)
    inviter_headers = bearer(login(client, *inviter).get_json()["access_token"])
    issued = invite(client, inviter_headers).get_json()

    removed = client.delete(f"/api/v1/developers/{inviter_id}", headers=admin_headers)

    assert removed.status_code == 204
    response = accept(client, issued["accept_url"].partition("#token=")[2])
    assert response.status_code == 410
    assert response.get_json() == {"detail": "This invitation has been revoked."}
    assert login(client, INVITEE, INVITEE_PASSWORD).status_code == 401
    assert client.get("/api/v1/invitations", headers=admin_headers).get_json()["items"] == []


def test_an_invitation_revoked_while_it_is_being_accepted_admits_no_one(
    client, admin, admin_headers, database_url, monkeypatch
):
    """The revocation commits between the acceptance's read and its write."""
    issued = invite(client, admin_headers).get_json()
    check_policy = services.enforce_password_policy

    def revoked_meanwhile(*args):
        check_policy(*args)
        with psycopg.connect(database_url) as connection:
            connection.execute("UPDATE invitations SET revoked_at = now()")

    monkeypatch.setattr(services, "enforce_password_policy", revoked_meanwhile)

    response = accept(client, issued["accept_url"].partition("#token=")[2])

    assert response.status_code == 410
    assert response.get_json() == {"detail": "This invitation has been revoked."}
    assert login(client, INVITEE, INVITEE_PASSWORD).status_code == 401


def test_expired_invitation_cannot_be_accepted(make_app, admin, mail_server):
    client = make_app(**smtp_settings(mail_server), INVITATION_EXPIRES_HOURS=0).test_client()
    headers = bearer(login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"])
    issued = invite(client, headers).get_json()

    response = accept(client, issued["accept_url"].partition("#token=")[2])

    assert response.status_code == 410
    assert response.get_json() == {"detail": "This invitation has expired."}


def test_accept_applies_the_password_policy_to_the_invited_email(client, admin, admin_headers):
    token = invite(client, admin_headers).get_json()["accept_url"].partition("#token=")[2]

    for password, rule in [("short", "min_length"), (INVITEE, "email"), ("iloveyou", "min_length")]:
        response = accept(client, token, password)
        assert response.status_code == 422
        assert response.get_json()["errors"]["password"][0].startswith(f"{rule}:")
    assert accept(client, token).status_code == 201


def test_unknown_token_is_400(client, admin):
    response = accept(client, "inv_doesnotexist")
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Invalid invitation token."}


def test_invitation_endpoints_refuse_api_keys(client, admin, api_key_headers):
    assert invite(client, api_key_headers).status_code == 403
    assert client.get("/api/v1/invitations", headers=api_key_headers).status_code == 403
