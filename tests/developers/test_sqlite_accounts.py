"""The account layer on the embedded default (SQLite, no Redis, no broker): `make run`."""

from flask_migrate import upgrade

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, login, mailed_link, mails_to, smtp_settings
from tests.factories import bearer, session_is_dead

INVITEE = "grace@example.com"


def test_every_account_endpoint_on_sqlite(make_app, tmp_path, mail_server):
    app = make_app(
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        REDIS_URL="",
        **smtp_settings(mail_server),
    )
    with app.app_context():
        upgrade()
        from app.developers import services as developers

        developers.create_developer(ADMIN_EMAIL, ADMIN_PASSWORD)
    client = app.test_client()
    mine = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    other = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    headers = bearer(mine["access_token"])

    assert (
        client.patch("/api/v1/auth/me", json={"first_name": "Ada"}, headers=headers).json[
            "first_name"
        ]
        == "Ada"
    )
    sessions = client.get("/api/v1/auth/sessions", headers=headers).json
    assert sessions["total"] == 2
    assert client.delete("/api/v1/auth/sessions", headers=headers).status_code == 204
    assert session_is_dead(client, other)

    invited = client.post("/api/v1/invitations", json={"email": INVITEE}, headers=headers).json
    assert client.get("/api/v1/invitations", headers=headers).json["total"] == 1
    [mail] = mails_to(mail_server, INVITEE)
    token = mailed_link(mail)[1]
    assert token == invited["accept_url"].partition("#token=")[2]
    accepted = client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": "grace's passphrase"}
    )
    assert accepted.status_code == 201
    team = client.get("/api/v1/developers", headers=headers).json
    assert [d["email"] for d in team["items"]] == [ADMIN_EMAIL, INVITEE]

    assert client.post("/api/v1/auth/forgot-password", json={"email": INVITEE}).status_code == 202
    [_, reset_mail] = mails_to(mail_server, INVITEE)
    reset = client.post(
        "/api/v1/auth/reset-password",
        json={"token": mailed_link(reset_mail)[1], "new_password": "grace's new passphrase"},
    )
    assert reset.status_code == 204
    assert login(client, INVITEE, "grace's new passphrase").status_code == 200

    grace_id = accepted.json["id"]
    assert client.delete(f"/api/v1/developers/{grace_id}", headers=headers).status_code == 204
    assert login(client, INVITEE, "grace's new passphrase").status_code == 401

    changed = client.post(
        "/api/v1/auth/change-password",
        json={"current_password": ADMIN_PASSWORD, "new_password": "ada's new passphrase"},
        headers=headers,
    )
    assert changed.status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
