import threading
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select, update

from app.alerts.models import Alert
from app.core.db import utcnow
from app.developers.models import Developer
from app.extensions import db
from app.refresh_tokens import services
from app.refresh_tokens.models import RefreshToken
from tests.support.apps import all_rows_text
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.servers import wait_for


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def me(client, access_token):
    return client.get("/api/v1/auth/me", headers=bearer(access_token))


def test_refresh_returns_a_new_access_and_refresh_token(client, admin_tokens):
    response = refresh(client, admin_tokens["refresh_token"])

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"].startswith("rt_")
    assert body["refresh_token"] != admin_tokens["refresh_token"]
    assert body["access_token"] != admin_tokens["access_token"]
    assert me(client, body["access_token"]).status_code == 200


def test_reusing_a_refresh_token_revokes_the_whole_family(client, admin_tokens):
    first = admin_tokens["refresh_token"]
    second = refresh(client, first).get_json()
    third = refresh(client, second["refresh_token"]).get_json()

    reuse = refresh(client, first)

    assert reuse.status_code == 401
    assert reuse.get_json() == {
        "detail": "Refresh token has already been used; its session has been revoked."
    }
    assert refresh(client, third["refresh_token"]).status_code == 401
    for access_token in (admin_tokens["access_token"], third["access_token"]):
        assert me(client, access_token).get_json() == {"detail": "Token has been revoked."}


def test_reuse_leaves_other_sessions_alone(client, admin, admin_tokens):
    other = client.post(
        "/api/v1/auth/login", data={"username": admin["email"], "password": ADMIN_PASSWORD}
    ).get_json()
    refresh(client, admin_tokens["refresh_token"])
    refresh(client, admin_tokens["refresh_token"])

    assert refresh(client, other["refresh_token"]).status_code == 200


def test_concurrent_refreshes_with_one_token_let_exactly_one_win(app, admin_tokens):
    for _ in range(5):
        token = admin_tokens["refresh_token"]
        barrier = threading.Barrier(2)
        statuses = []

        def attempt(token=token, barrier=barrier, statuses=statuses):
            client = app.test_client()
            barrier.wait()
            statuses.append(refresh(client, token).status_code)

        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(statuses) == [200, 401]
        admin_tokens = (
            app.test_client()
            .post(
                "/api/v1/auth/login",
                data={"username": "admin@example.com", "password": ADMIN_PASSWORD},
            )
            .get_json()
        )


def test_expired_refresh_token_is_401(app, client, admin_tokens):
    with app.app_context():
        db.session.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()

    response = refresh(client, admin_tokens["refresh_token"])

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Refresh token has expired."}


def test_refreshed_tokens_keep_the_family_absolute_expiry(app, client, admin_tokens):
    refresh(client, admin_tokens["refresh_token"])

    with app.app_context():
        rows = db.session.scalars(select_all()).all()
        assert len(rows) == 2
        assert rows[0].expires_at == rows[1].expires_at
        assert rows[0].family_id == rows[1].family_id
        lifetime = rows[0].expires_at - rows[0].created_at
        assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)


def select_all():
    from sqlalchemy import select

    return select(RefreshToken).order_by(RefreshToken.created_at)


@pytest.mark.parametrize(
    "token",
    ["rt_doesnotexist", "rt_" + "A" * 38, "", "x" * 600, "ow_live_abc"],
    ids=["short", "bad-checksum", "empty", "too-long", "api-key"],
)
def test_unknown_or_malformed_refresh_tokens_are_rejected(client, token):
    response = refresh(client, token)

    assert response.status_code in (401, 422)
    assert "detail" in response.get_json()


def test_refresh_requires_a_body(client):
    response = client.post("/api/v1/auth/refresh", json={})

    assert response.status_code == 422
    assert "refresh_token" in response.get_json()["errors"]


def test_no_plaintext_password_or_refresh_token_in_the_database(app, client, admin_tokens):
    rotated = refresh(client, admin_tokens["refresh_token"]).get_json()

    rows = all_rows_text(app)

    assert ADMIN_PASSWORD not in rows
    for token in (admin_tokens["refresh_token"], rotated["refresh_token"]):
        assert token not in rows
        assert token.removeprefix("rt_")[:-6] not in rows


def test_concurrent_reuses_of_one_family_queue_exactly_one_alert(app, make_app, admin_tokens):
    """Six copies of a used refresh token presented at once, on two app instances
    (two workers): the family is revoked once, so it is reported once."""
    used = admin_tokens["refresh_token"]
    assert refresh(app.test_client(), used).status_code == 200
    workers = [app, make_app()]
    barrier = threading.Barrier(6)
    statuses = []

    def reuse(worker):
        client = worker.test_client()
        barrier.wait()
        statuses.append(refresh(client, used).status_code)

    threads = [threading.Thread(target=reuse, args=(workers[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [401] * 6
    with app.app_context():
        alerts = db.session.scalars(
            select(Alert).where(Alert.event == "refresh_token.reuse_detected")
        ).all()
        db.session.remove()
    assert len(alerts) == 1


def sessions_waiting_for_a_lock(database_url) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]


def _logout(client, tokens):
    return client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))


def _password_change_elsewhere(client, tokens):
    """From another session of the same developer: every other session ends."""
    other = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    return client.post(
        "/api/v1/auth/change-password",
        json={"current_password": ADMIN_PASSWORD, "new_password": "a passphrase after the race"},
        headers=bearer(other["access_token"]),
    )


@pytest.mark.parametrize(
    "end_session",
    [pytest.param(_logout, id="logout"), pytest.param(_password_change_elsewhere, id="password")],
)
def test_a_session_ended_during_a_refresh_also_loses_the_token_that_refresh_issues(
    app, database_url, admin_tokens, monkeypatch, end_session
):
    """The refresh is held after consuming its token, before its commit; the logout (or
    password change) starts then, and waits for it. The successor committed a moment
    later belongs to the ended session: it must be revoked with it, not live on."""
    consumed, resume = threading.Event(), threading.Event()
    mint_successor = services._successor

    def held_successor(*args):
        pair = mint_successor(*args)
        consumed.set()
        resume.wait(timeout=30)
        return pair

    monkeypatch.setattr(services, "_successor", held_successor)
    responses = {}

    def call(name, send):
        with app.test_client() as client:
            responses[name] = send(client)

    refreshing = threading.Thread(
        target=call, args=("refresh", lambda c: refresh(c, admin_tokens["refresh_token"]))
    )
    ending = threading.Thread(target=call, args=("end", lambda c: end_session(c, admin_tokens)))
    refreshing.start()
    assert consumed.wait(timeout=30)
    ending.start()
    wait_for(lambda: sessions_waiting_for_a_lock(database_url) == 1, 30, what="the end waits")
    resume.set()
    refreshing.join()
    ending.join()

    assert responses["refresh"].status_code == 200
    assert responses["end"].status_code == 204
    successor = responses["refresh"].get_json()
    after = refresh(app.test_client(), successor["refresh_token"])
    assert after.status_code == 401
    assert after.get_json() == {"detail": "Refresh token has been revoked."}
    assert me(app.test_client(), successor["access_token"]).status_code == 401
    with app.app_context():
        family_id = services.family_of(admin_tokens["refresh_token"])
        family = db.session.scalars(
            select(RefreshToken).where(RefreshToken.family_id == family_id)
        ).all()
        assert [row.revoked_at is not None for row in family] == [True, True]
        db.session.remove()


def test_a_deactivated_developers_refresh_token_is_refused(app, client, admin_tokens):
    """Deactivated with a session left unrevoked (the removal's revocation comes after its
    commit): the refresh token no longer opens the account."""
    with app.app_context():
        db.session.execute(update(Developer).values(is_active=False))
        db.session.commit()

    response = refresh(client, admin_tokens["refresh_token"])

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Account no longer exists."}
    with app.app_context():
        assert db.session.scalars(select(RefreshToken.used_at)).all() == [None]
        db.session.remove()
