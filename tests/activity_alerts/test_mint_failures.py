"""A burst of failed SDK token mints for one app_id: one alert (mail to the application's
creator and the security team, the outbox row, the audit event), once per hour."""

from app.activity_alerts.services import current_hour
from app.core.secrets import digest, generate_secret
from tests.activity_alerts.conftest import (
    BUCKET_SECONDS,
    SECURITY_TEAM,
    THRESHOLD,
    alerts_of,
    audit_events,
    raised,
    start_of_a_bucket,
)
from tests.support.environment import ADMIN_EMAIL
from tests.support.factories import create_application, create_user, mint_with_app

EVENT = "activity.mint_failures"
CLIENT_IP = "198.51.100.23"


def fail_to_mint(client, user_id: str, app_id: str, times: int = 1) -> str:
    """Mint with a wrong secret; returns the secret that was sent."""
    wrong_secret = generate_secret("secret_")
    for _ in range(times):
        response = client.post(
            f"/api/v1/users/{user_id}/token",
            json={"app_id": app_id, "app_secret": wrong_secret},
            environ_base={"REMOTE_ADDR": CLIENT_IP},
        )
        assert response.status_code == 401, response.get_json()
    return wrong_secret


def test_the_failure_reaching_the_threshold_mails_the_creator_once_and_audits_it(
    app, client, admin_headers, mail_server
):
    application = create_application(client, admin_headers, name="Runner App")
    user = create_user(client, admin_headers)
    start_of_a_bucket()

    fail_to_mint(client, user["id"], application["app_id"], THRESHOLD - 1)
    assert mail_server.messages == []
    wrong_secret = fail_to_mint(client, user["id"], application["app_id"])

    [mail] = mail_server.messages
    assert mail["X-Envelope-To"] == f"{ADMIN_EMAIL}, {SECURITY_TEAM}"
    assert mail["Subject"] == "Unusual activity, failed SDK token mints: Runner App"
    body = mail.get_payload(decode=True).decode()
    assert f"{THRESHOLD} SDK token mints for app_id {application['app_id']}" in body
    assert "198.51.100.0/24" in body
    assert f"From IP:    {CLIENT_IP}" in body
    assert wrong_secret.encode() not in mail_server.sink.raw[0]
    assert application["app_secret"].encode() not in mail_server.sink.raw[0]
    [alert] = alerts_of(app, EVENT)
    assert alert.status == "sent"
    assert alert.payload["credential"] == {
        "type": "application",
        "id": application["app_id"],
        "name": "Runner App",
    }
    assert alert.payload["actor"]["id"] == "activity-alerts"
    [event] = audit_events(app, EVENT)
    assert (event.target_type, event.target_id, event.ip) == (
        "application",
        application["app_id"],
        CLIENT_IP,
    )
    assert event.details == {
        "app_id": application["app_id"],
        "failures": THRESHOLD,
        "seconds": BUCKET_SECONDS,
        "network": "198.51.100.0/24",
        "alert_id": str(alert.id),
    }
    [row] = raised(app)
    assert (row.kind, row.subject, row.hour, row.alert_id) == (
        "mint_failures",
        application["app_id"],
        current_hour(),
        alert.id,
    )


def test_more_failures_in_the_same_hour_raise_no_second_alert(
    app, client, admin_headers, mail_server
):
    application = create_application(client, admin_headers)
    user = create_user(client, admin_headers)
    start_of_a_bucket()
    fail_to_mint(client, user["id"], application["app_id"], THRESHOLD)
    assert len(mail_server.messages) == 1

    fail_to_mint(client, user["id"], application["app_id"], THRESHOLD)  # past it, same bucket
    start_of_a_bucket()
    fail_to_mint(client, user["id"], application["app_id"], THRESHOLD)  # a new bucket reaches it

    assert len(mail_server.messages) == 1
    assert len(alerts_of(app, EVENT)) == 1
    assert len(audit_events(app, EVENT)) == 1
    assert len(raised(app)) == 1
    assert len(audit_events(app, "sdk_token.mint_failed")) == 3 * THRESHOLD


def test_each_app_id_is_counted_and_alerted_on_its_own(app, client, admin_headers, mail_server):
    first = create_application(client, admin_headers, name="First")
    second = create_application(client, admin_headers, name="Second")
    user = create_user(client, admin_headers)
    start_of_a_bucket()

    fail_to_mint(client, user["id"], first["app_id"], THRESHOLD - 1)
    fail_to_mint(client, user["id"], second["app_id"], THRESHOLD - 1)
    assert mail_server.messages == []
    fail_to_mint(client, user["id"], first["app_id"])
    fail_to_mint(client, user["id"], second["app_id"])

    subjects = sorted(mail["Subject"] for mail in mail_server.messages)
    assert subjects == [
        "Unusual activity, failed SDK token mints: First",
        "Unusual activity, failed SDK token mints: Second",
    ]
    assert sorted(row.subject for row in raised(app)) == sorted([first["app_id"], second["app_id"]])


def test_an_unknown_app_id_alerts_only_the_security_team(app, client, admin_headers, mail_server):
    user = create_user(client, admin_headers)
    start_of_a_bucket()

    fail_to_mint(client, user["id"], "app_DoesNotExist0000000", THRESHOLD)

    [mail] = mail_server.messages
    assert mail["X-Envelope-To"] == SECURITY_TEAM
    assert mail["Subject"] == "Unusual activity, failed SDK token mints: unknown app_id"
    assert "app_DoesNotExist0000000" in mail.get_payload(decode=True).decode()


def test_successful_mints_never_count(app, client, admin_headers, mail_server, redis_url):
    application = create_application(client, admin_headers)
    user = create_user(client, admin_headers)
    start_of_a_bucket()

    fail_to_mint(client, user["id"], application["app_id"], THRESHOLD - 1)
    for _ in range(THRESHOLD + 2):
        assert mint_with_app(client, user["id"], application).status_code == 200
    assert mail_server.messages == []

    fail_to_mint(client, user["id"], application["app_id"])  # the threshold, exactly

    assert len(mail_server.messages) == 1
    store = app.extensions["owa_store"].client
    with app.app_context():
        tag = f"activity:app:{digest(application['app_id'])}"
    [counter] = store.keys(f"owa:{{{tag}}}:*")
    assert int(store.get(counter)) == THRESHOLD
    assert 0 < store.ttl(counter) <= BUCKET_SECONDS
