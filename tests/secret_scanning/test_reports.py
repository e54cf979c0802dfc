import base64
import hashlib
import json
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from app.alerts.models import Alert
from app.audit.models import AuditEvent
from app.core.auth import api_key_subject
from app.core.revocation import cache_key
from app.core.secrets import digest, generate_secret
from app.extensions import db
from app.secret_scanning.services import PublicKeysError
from tests.secret_scanning.conftest import KEY_IDENTIFIER, REPORTS, leak, sign
from tests.support.auth import bearer

USERS = "/api/v1/users"


def labels(response) -> list[dict]:
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rows(app, model) -> list:
    with app.app_context():
        return list(db.session.scalars(select(model)))


def test_a_reported_key_is_revoked_alerted_audited_and_labelled(
    app, client, report, api_key, api_key_headers, admin_headers
):
    assert client.get(USERS, headers=api_key_headers).status_code == 200

    response = report([leak(api_key["key"])])

    assert labels(response) == [
        {
            "token_hash": token_hash(api_key["key"]),
            "token_type": "open_wearables_api_key",
            "label": "true_positive",
        }
    ]
    refused = client.get(USERS, headers=api_key_headers)
    assert refused.status_code == 401
    assert refused.get_json() == {"detail": "Invalid API key"}
    shown = client.get(f"/api/v1/api-keys/{api_key['id']}", headers=admin_headers).get_json()
    assert shown["revoked_at"] is not None
    assert "GitHub secret scanning" in shown["revoked_reason"]
    [alert] = rows(app, Alert)
    assert alert.event == "api_key.leaked"
    assert alert.recipients == ["admin@example.com"]
    assert alert.payload["credential"]["id"] == api_key["id"]
    assert "https://github.com/octo/app/blob/abc123/settings.py" in alert.payload["summary"]
    assert "(commit)" in alert.payload["summary"]
    assert "revoked" in alert.payload["summary"]
    events = {event.action: event for event in rows(app, AuditEvent)}
    assert events["api_key.revoked"].target_id == api_key["id"]
    assert events["api_key.revoked"].actor_id == "github-secret-scanning"
    assert events["api_key.leak_reported"].details["url"] == (
        "https://github.com/octo/app/blob/abc123/settings.py"
    )
    assert events["api_key.leak_reported"].details["action"] == "revoked"


def test_rotating_a_revoked_key_gives_it_a_working_secret(
    client, report, api_key, api_key_headers, admin_headers
):
    labels(report([leak(api_key["key"])]))

    rotated = client.post(f"/api/v1/api-keys/{api_key['id']}/rotate", headers=admin_headers)

    assert rotated.status_code == 200
    assert rotated.get_json()["revoked_at"] is None
    assert rotated.get_json()["revoked_reason"] is None
    assert client.get(USERS, headers=bearer(rotated.get_json()["key"])).status_code == 200
    assert client.get(USERS, headers=api_key_headers).status_code == 401


def test_a_working_key_shows_no_revocation(client, api_key, admin_headers):
    shown = client.get(f"/api/v1/api-keys/{api_key['id']}", headers=admin_headers).get_json()

    assert shown["revoked_at"] is None
    assert shown["revoked_reason"] is None


def test_alert_action_leaves_the_key_working_and_alerts(
    app, make_app, public_keys_file, report, api_key, api_key_headers, client
):
    alerting = make_app(
        SECRET_SCANNING_PUBLIC_KEYS_FILE=str(public_keys_file), SECRET_SCANNING_ACTION="alert"
    )

    response = report([leak(api_key["key"])], to=alerting.test_client())

    assert labels(response)[0]["label"] == "true_positive"
    assert client.get(USERS, headers=api_key_headers).status_code == 200
    [alert] = rows(app, Alert)
    assert "still works" in alert.payload["summary"]
    actions = sorted(e.action for e in rows(app, AuditEvent) if e.target_type == "api_key")
    assert actions == ["api_key.created", "api_key.leak_reported"]


def test_a_replay_answers_alike_and_alerts_once(app, report, api_key):
    first = labels(report([leak(api_key["key"])]))

    replay = labels(report([leak(api_key["key"]), leak(api_key["key"])]))

    assert replay == first * 2
    assert len(rows(app, Alert)) == 1
    actions = sorted(e.action for e in rows(app, AuditEvent) if e.target_type == "api_key")
    assert actions == ["api_key.created", "api_key.leak_reported", "api_key.revoked"]


def test_a_replay_after_the_key_was_rotated_leaves_the_new_secret_working(
    client, report, api_key, admin_headers
):
    labels(report([leak(api_key["key"])]))
    rotated = client.post(f"/api/v1/api-keys/{api_key['id']}/rotate", headers=admin_headers)

    replay = labels(report([leak(api_key["key"])]))

    assert replay[0]["label"] == "true_positive"
    assert client.get(USERS, headers=bearer(rotated.get_json()["key"])).status_code == 200


def test_unknown_tokens_are_false_positives_and_change_nothing(
    app, client, report, api_key, api_key_headers
):
    stranger = generate_secret("ow_live_")

    answers = labels(report([leak(stranger), leak("not even our shape"), leak(api_key["key"])]))

    assert [answer["label"] for answer in answers] == [
        "false_positive",
        "false_positive",
        "true_positive",
    ]
    assert [answer["token_hash"] for answer in answers] == [
        token_hash(stranger),
        token_hash("not even our shape"),
        token_hash(api_key["key"]),
    ]
    assert len(rows(app, Alert)) == 1


def test_an_empty_report_answers_an_empty_list(report):
    assert labels(report([])) == []


def test_the_token_is_in_no_table_and_no_log(app, report, api_key, caplog):
    caplog.set_level(logging.DEBUG)
    stranger = generate_secret("ow_test_")

    labels(report([leak(api_key["key"]), leak(stranger)]))

    with app.app_context():
        dumped = "".join(
            repr(list(row))
            for table in db.metadata.sorted_tables
            for row in db.session.execute(select(table))
        )
    assert "settings.py" in dumped
    for token in (api_key["key"], stranger):
        # The random part alone, should any layer have cut off the prefix.
        assert token[8:] not in dumped
        assert token[8:] not in caplog.text
    assert "reported leaked by GitHub secret scanning" in caplog.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Github-Public-Key-Identifier": KEY_IDENTIFIER},
        {"Github-Public-Key-Signature": "MEUCIQ=="},
    ],
)
def test_an_unsigned_report_is_401(client, api_key, api_key_headers, headers):
    response = client.post(REPORTS, json=[leak(api_key["key"])], headers=headers)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Missing GitHub signature headers."}
    assert client.get(USERS, headers=api_key_headers).status_code == 200


def test_a_report_signed_by_another_key_is_401(client, report, api_key, api_key_headers):
    response = report([leak(api_key["key"])], key=ec.generate_private_key(ec.SECP256R1()))

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid GitHub signature."}
    assert client.get(USERS, headers=api_key_headers).status_code == 200


def test_a_signature_of_another_body_is_401(client, github_key, api_key, api_key_headers):
    body = json.dumps([leak(api_key["key"])]).encode()
    headers = {
        "Github-Public-Key-Identifier": KEY_IDENTIFIER,
        "Github-Public-Key-Signature": sign(body + b" ", github_key),
    }

    response = client.post(REPORTS, data=body, headers=headers, content_type="application/json")

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid GitHub signature."}


@pytest.mark.parametrize("signature", ["not base64!", base64.b64encode(b"not DER").decode()])
def test_a_garbled_signature_is_401(client, api_key, signature):
    headers = {
        "Github-Public-Key-Identifier": KEY_IDENTIFIER,
        "Github-Public-Key-Signature": signature,
    }

    response = client.post(REPORTS, json=[leak(api_key["key"])], headers=headers)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid GitHub signature."}


def test_an_unknown_key_identifier_is_401(report, api_key):
    response = report([leak(api_key["key"])], identifier="some-other-key")

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Unknown GitHub public key identifier."}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[{", 400),
        (b"", 422),
        (b'{"token": "x", "type": "t"}', 422),
        (b'[{"type": "t"}]', 422),
        (b'[{"token": "", "type": "t"}]', 422),
        (b'[{"token": 5, "type": "t"}]', 422),
        (b'["ow_live_x"]', 422),
        (b'[{"token": "a\\u0000b", "type": "t"}]', 422),
    ],
)
def test_a_malformed_signed_report_is_a_4xx_with_detail(app, report, body, status):
    response = report(body=body)

    assert response.status_code == status
    assert response.get_json()["detail"]
    assert rows(app, Alert) == []


def test_a_report_is_rate_limited_per_ip(make_app, public_keys_file, report):
    limited = make_app(
        SECRET_SCANNING_PUBLIC_KEYS_FILE=str(public_keys_file), RATELIMIT_PER_IP="2 per minute"
    ).test_client()

    statuses = [report([], to=limited).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    other_ip = limited.post(REPORTS, json=[], environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other_ip.status_code == 401


def test_without_a_keys_file_the_endpoint_does_not_exist(make_app, report):
    plain = make_app(SECRET_SCANNING_PUBLIC_KEYS_FILE="")

    response = report([], to=plain.test_client())

    assert response.status_code == 404
    spec = plain.test_client().get("/api/v1/openapi.json").get_json()
    assert REPORTS not in spec["paths"]


def test_the_endpoint_is_documented_without_credentials(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"][REPORTS]["post"]

    assert operation["operationId"] == "reportLeakedTokens"
    assert "security" not in operation
    assert {"200", "401", "422", "429"} <= set(operation["responses"])
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"Github-Public-Key-Identifier", "Github-Public-Key-Signature"}


@pytest.mark.parametrize(
    "content",
    ["not json", '{"keys": []}', '{"public_keys": [{"key_identifier": "a", "key": "nope"}]}'],
)
def test_a_broken_keys_file_stops_the_app_at_start(make_app, tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_text(content)

    with pytest.raises(PublicKeysError):
        make_app(SECRET_SCANNING_PUBLIC_KEYS_FILE=str(path))


def test_a_key_file_broken_later_answers_503(app, report, public_keys_file, api_key):
    public_keys_file.write_text("{")

    response = report([leak(api_key["key"])])

    assert response.status_code == 503
    assert response.get_json()["detail"]
    assert rows(app, Alert) == []


def test_the_file_is_reread_so_a_new_github_key_works_without_restart(
    report, public_keys_file, github_key, api_key
):
    from tests.secret_scanning.conftest import public_keys_document

    new_key = ec.generate_private_key(ec.SECP256R1())
    public_keys_file.write_text(
        json.dumps(public_keys_document((KEY_IDENTIFIER, github_key), ("next", new_key)))
    )

    response = report([leak(api_key["key"])], key=new_key, identifier="next")

    assert labels(response)[0]["label"] == "true_positive"


def test_the_route_is_public_on_purpose(app):
    from tests.test_scopes import PUBLIC, undeclared_routes

    assert ("secret-scanning.LeakReports", "POST") in PUBLIC
    assert "/api/v1/secret-scanning/reports" in {rule.rule for rule in app.url_map.iter_rules()}
    assert undeclared_routes(app) == []


def test_rotating_a_revoked_key_with_a_grace_period_never_revives_the_leaked_secret(
    app, client, make_app, report, api_key, api_key_headers, admin_headers
):
    labels(report([leak(api_key["key"])]))

    rotated = client.post(
        f"/api/v1/api-keys/{api_key['id']}/rotate",
        json={"grace_seconds": 3600},
        headers=admin_headers,
    )

    assert rotated.status_code == 200
    assert rotated.get_json()["previous_key_expires_at"] is None
    assert rotated.get_json()["revoked_at"] is None
    other_worker = make_app().test_client()
    for worker in (client, other_worker):
        assert worker.get(USERS, headers=api_key_headers).status_code == 401
        assert worker.get(USERS, headers=bearer(rotated.get_json()["key"])).status_code == 200
    with app.app_context():
        app.extensions["owa_store"].client.flushdb()
    assert other_worker.get(USERS, headers=api_key_headers).status_code == 401
    rotation_alert = next(alert for alert in rows(app, Alert) if alert.event == "api_key.rotated")
    assert "stopped working at that moment" in rotation_alert.payload["summary"]


def test_a_leaked_previous_secret_in_its_grace_period_stops_and_the_current_one_works(
    app, client, make_app, report, api_key, api_key_headers, admin_headers
):
    rotated = client.post(
        f"/api/v1/api-keys/{api_key['id']}/rotate",
        json={"grace_seconds": 3600},
        headers=admin_headers,
    ).get_json()
    other_worker = make_app().test_client()
    for worker in (client, other_worker):
        assert worker.get(USERS, headers=api_key_headers).status_code == 200  # cached

    response = report([leak(api_key["key"])])

    assert labels(response)[0]["label"] == "true_positive"
    for worker in (client, other_worker):
        assert worker.get(USERS, headers=api_key_headers).status_code == 401
        assert worker.get(USERS, headers=bearer(rotated["key"])).status_code == 200
    with app.app_context():
        app.extensions["owa_store"].client.flushdb()
    assert other_worker.get(USERS, headers=api_key_headers).status_code == 401
    shown = client.get(f"/api/v1/api-keys/{api_key['id']}", headers=admin_headers).get_json()
    assert shown["previous_key_expires_at"] is None
    assert shown["revoked_at"] is None
    leak_alert = next(alert for alert in rows(app, Alert) if alert.event == "api_key.leaked")
    assert "grace period ended now" in leak_alert.payload["summary"]
    events = {event.action: event for event in rows(app, AuditEvent)}
    assert events["api_key.leak_reported"].details["action"] == "grace_ended"
    assert "api_key.revoked" not in events


def test_alert_action_leaves_a_leaked_previous_secret_working_until_its_grace_ends(
    app, make_app, public_keys_file, report, client, api_key, api_key_headers, admin_headers
):
    client.post(
        f"/api/v1/api-keys/{api_key['id']}/rotate",
        json={"grace_seconds": 3600},
        headers=admin_headers,
    )
    alerting = make_app(
        SECRET_SCANNING_PUBLIC_KEYS_FILE=str(public_keys_file), SECRET_SCANNING_ACTION="alert"
    )

    response = report([leak(api_key["key"])], to=alerting.test_client())

    assert labels(response)[0]["label"] == "true_positive"
    assert client.get(USERS, headers=api_key_headers).status_code == 200
    leak_alert = next(alert for alert in rows(app, Alert) if alert.event == "api_key.leaked")
    assert "rotate again" in leak_alert.payload["summary"]
    events = {event.action: event for event in rows(app, AuditEvent)}
    assert events["api_key.leak_reported"].details["action"] == "alerted"


def test_a_revoked_key_fails_at_once_without_waiting_for_a_celery_worker(
    make_app, public_keys_file, report, api_key, api_key_headers
):
    # A broker no worker reads: a revocation left to a task would never reach Redis.
    queued = make_app(
        SECRET_SCANNING_PUBLIC_KEYS_FILE=str(public_keys_file),
        CELERY_BROKER_URL="memory://localhost/",
    ).test_client()
    assert queued.get(USERS, headers=api_key_headers).status_code == 200  # cached

    assert labels(report([leak(api_key["key"])], to=queued))[0]["label"] == "true_positive"

    refused = queued.get(USERS, headers=api_key_headers)
    assert refused.status_code == 401
    assert refused.get_json() == {"detail": "Invalid API key"}


def test_a_revoked_key_stays_refused_after_its_tombstone_ends(
    app, client, report, api_key, api_key_headers, admin_headers
):
    assert client.get(USERS, headers=api_key_headers).status_code == 200  # cached
    labels(report([leak(api_key["key"])]))
    # A narrowing drops the cached record's `loaded` mark; the next request reads the
    # key again and finds no usable key for that digest.
    patched = client.patch(
        f"/api/v1/api-keys/{api_key['id']}", json={"scopes": ["data:read"]}, headers=admin_headers
    )
    assert patched.status_code == 200
    assert client.get(USERS, headers=api_key_headers).status_code == 401
    # The tombstone's lifetime (the cache lifetime and a margin) runs out.
    with app.app_context():
        redis_client = app.extensions["owa_store"].client
        redis_client.hset(cache_key(api_key_subject(digest(api_key["key"]))), "revoked", 1)

    refused = client.get(USERS, headers=api_key_headers)
    assert refused.status_code == 401
    assert refused.get_json() == {"detail": "Invalid API key"}
