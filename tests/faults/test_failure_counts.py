"""Failures counted after the view (flask-limiter's hits, sent in one call) when Redis
goes away between the admission and that call: the answer stands, the loss is logged."""

import logging

from tests.support.auth import login


def test_failures_lost_with_redis_are_logged_and_the_answer_stands(
    make_app, own_redis, admin, caplog
):
    app = make_app(REDIS_URL=own_redis.url)
    client = app.test_client()
    assert login(client, admin["email"], "not the password").status_code == 401

    def redis_dies(response):
        own_redis.kill()
        return response

    # Flask runs after-request hooks last registered first: this one before flask-limiter's.
    app.after_request_funcs[None].append(redis_dies)
    with caplog.at_level(logging.ERROR, logger="app.core.ratelimit"):
        response = login(client, admin["email"], "not the password")

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Incorrect email or password"}
    assert "Failed to count 3 rate-limit failures." in caplog.text
