"""REFRESH_TOKEN_REUSE_GRACE_SECONDS: a refresh whose response was lost can be retried
with the same refresh token, once, while the token issued for it is unused."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.alerts.models import Alert
from app.core.db import utcnow
from app.core.secrets import digest
from app.extensions import db
from app.refresh_tokens.models import RefreshToken
from tests.factories import bearer

GRACE_SECONDS = 30
REUSE_DETAIL = "Refresh token has already been used; its session has been revoked."


@pytest.fixture
def config_overrides():
    return {"REFRESH_TOKEN_REUSE_GRACE_SECONDS": GRACE_SECONDS}


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def me(client, access_token):
    return client.get("/api/v1/auth/me", headers=bearer(access_token))


def live_tokens(app) -> int:
    with app.app_context():
        rows = db.session.scalars(
            select(RefreshToken).where(
                RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None)
            )
        ).all()
        return len(rows)


def is_live(app, refresh_token: str) -> bool:
    with app.app_context():
        row = db.session.scalar(
            select(RefreshToken).where(RefreshToken.token_digest == digest(refresh_token))
        )
        return row.used_at is None and row.revoked_at is None


def alerts(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Alert)).all())


def test_a_retry_after_a_lost_response_gets_a_fresh_pair(app, client, admin_tokens):
    parent = admin_tokens["refresh_token"]
    lost = refresh(client, parent).get_json()  # the client never sees this response

    retry = refresh(client, parent)

    assert retry.status_code == 200
    fresh = retry.get_json()
    assert fresh["refresh_token"] not in (parent, lost["refresh_token"])
    assert me(client, fresh["access_token"]).status_code == 200
    assert me(client, lost["access_token"]).get_json() == {"detail": "Token has been revoked."}
    assert live_tokens(app) == 1
    assert alerts(app) == 0
    next_pair = refresh(client, fresh["refresh_token"])
    assert next_pair.status_code == 200
    assert me(client, next_pair.get_json()["access_token"]).status_code == 200


def test_presenting_the_replaced_token_ends_the_session(app, client, admin_tokens):
    """The holder of the replaced pair is not the one who retried: two parties held the
    parent (a stolen token replayed within the grace), so the whole session ends."""
    parent = admin_tokens["refresh_token"]
    victims = refresh(client, parent).get_json()
    thiefs = refresh(client, parent).get_json()

    response = refresh(client, victims["refresh_token"])

    assert response.status_code == 401
    assert response.get_json() == {
        "detail": "Refresh token was replaced by a retried refresh; its session has been revoked."
    }
    assert refresh(client, thiefs["refresh_token"]).status_code == 401
    assert me(client, thiefs["access_token"]).status_code == 401
    assert alerts(app) == 1


def test_the_grace_is_spent_once_per_parent(app, client, admin_tokens):
    parent = admin_tokens["refresh_token"]
    refresh(client, parent)
    fresh = refresh(client, parent).get_json()

    again = refresh(client, parent)

    assert again.status_code == 401
    assert again.get_json() == {"detail": REUSE_DETAIL}
    assert refresh(client, fresh["refresh_token"]).status_code == 401
    assert me(client, fresh["access_token"]).status_code == 401
    assert live_tokens(app) == 0
    assert alerts(app) == 1


def test_a_reuse_after_the_child_was_used_revokes_the_family(app, client, admin_tokens):
    parent = admin_tokens["refresh_token"]
    child = refresh(client, parent).get_json()
    grandchild = refresh(client, child["refresh_token"]).get_json()

    reuse = refresh(client, parent)

    assert reuse.get_json() == {"detail": REUSE_DETAIL}
    assert refresh(client, grandchild["refresh_token"]).status_code == 401
    assert me(client, grandchild["access_token"]).status_code == 401


def test_a_reuse_after_the_grace_revokes_the_family(app, client, admin_tokens):
    parent = admin_tokens["refresh_token"]
    child = refresh(client, parent).get_json()
    with app.app_context():
        db.session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=utcnow() - timedelta(seconds=GRACE_SECONDS + 1))
        )
        db.session.commit()

    reuse = refresh(client, parent)

    assert reuse.get_json() == {"detail": REUSE_DETAIL}
    assert refresh(client, child["refresh_token"]).status_code == 401


def test_each_token_of_the_chain_has_its_own_grace(client, admin_tokens):
    first = admin_tokens["refresh_token"]
    refresh(client, first)
    second = refresh(client, first).get_json()["refresh_token"]
    refresh(client, second)

    retry = refresh(client, second)

    assert retry.status_code == 200


def test_without_grace_a_lost_response_ends_the_session(make_app, admin):
    app = make_app(REFRESH_TOKEN_REUSE_GRACE_SECONDS=0)
    client = app.test_client()
    tokens = client.post(
        "/api/v1/auth/login", data={"username": admin["email"], "password": admin["password"]}
    ).get_json()
    lost = refresh(client, tokens["refresh_token"]).get_json()

    retry = refresh(client, tokens["refresh_token"])

    assert retry.get_json() == {"detail": REUSE_DETAIL}
    assert refresh(client, lost["refresh_token"]).status_code == 401


def present_at_once(app, token: str, times: int) -> list:
    barrier = threading.Barrier(times)
    responses = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        responses.append(refresh(client, token))

    threads = [threading.Thread(target=attempt) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def login_again(app, admin) -> dict:
    return (
        app.test_client()
        .post(
            "/api/v1/auth/login", data={"username": admin["email"], "password": admin["password"]}
        )
        .get_json()
    )


def test_two_simultaneous_presentations_leave_exactly_one_live_pair(app, admin):
    for _ in range(5):
        token = login_again(app, admin)["refresh_token"]

        responses = present_at_once(app, token, 2)

        assert [response.status_code for response in responses] == [200, 200]
        returned = [response.get_json()["refresh_token"] for response in responses]
        assert sorted(is_live(app, token) for token in returned) == [False, True]
        assert live_tokens(app) == 1
        live = next(token for token in returned if is_live(app, token))
        assert refresh(app.test_client(), live).status_code == 200
        with app.app_context():
            db.session.execute(update(RefreshToken).values(revoked_at=utcnow()))
            db.session.commit()


def test_three_simultaneous_presentations_revoke_the_family(app, admin):
    for _ in range(3):
        token = login_again(app, admin)["refresh_token"]

        responses = present_at_once(app, token, 3)

        assert sorted(response.status_code for response in responses) == [200, 200, 401]
        assert live_tokens(app) == 0
