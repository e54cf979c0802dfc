def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_database_and_redis(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok", "rate_limits": "redis"},
    }


def test_readyz_is_degraded_when_redis_is_unreachable(make_app):
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "unavailable", "rate_limits": "in-memory fallback"},
    }


def test_readyz_is_503_when_the_database_is_unreachable(make_app):
    client = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none").test_client()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {
        "detail": "Not ready: database unreachable.",
        "status": "unavailable",
        "checks": {"database": "unavailable", "redis": "ok", "rate_limits": "redis"},
    }
