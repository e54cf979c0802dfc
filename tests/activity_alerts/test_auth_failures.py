"""A burst of refused API keys from one network (a scanner): one alert per network
(IPv4 /24, IPv6 /48) to the security team, once per hour; valid keys never count."""

from app.activity_alerts.services import current_hour
from app.core.secrets import generate_secret
from tests.activity_alerts.conftest import (
    BUCKET_SECONDS,
    SECURITY_TEAM,
    THRESHOLD,
    alerts_of,
    audit_events,
    raised,
    start_of_a_bucket,
)
from tests.support.auth import bearer

EVENT = "activity.auth_failures"
USERS = "/api/v1/users"


def refused(client, address: str, key: str | None = None) -> None:
    headers = bearer(key or generate_secret("ow_live_"))
    response = client.get(USERS, headers=headers, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 401, response.get_json()


def test_refused_keys_from_one_ipv4_network_alert_the_security_team_once(
    app, client, admin_headers, api_key, mail_server
):
    deleted = client.post("/api/v1/api-keys", json={"name": "Old"}, headers=admin_headers)
    gone = deleted.get_json()["key"]
    deletion = client.delete(f"/api/v1/api-keys/{deleted.get_json()['id']}", headers=admin_headers)
    assert deletion.status_code == 204
    start_of_a_bucket()

    refused(client, "198.51.100.7")  # unknown key
    refused(client, "198.51.100.8", "ow_live_notevenwellformed")  # malformed, no I/O
    assert mail_server.messages == []
    refused(client, "198.51.100.250", gone)  # a deleted key's secret

    [mail] = mail_server.messages
    assert mail["X-Envelope-To"] == SECURITY_TEAM
    assert mail["Subject"] == "Unusual activity, invalid API keys from one network: 198.51.100.0/24"
    body = mail.get_payload(decode=True).decode()
    assert f"{THRESHOLD} requests from 198.51.100.0/24 were refused" in body
    assert "From IP:    198.51.100.250" in body
    assert gone.encode() not in mail_server.sink.raw[0]
    [alert] = alerts_of(app, EVENT)
    assert alert.payload["credential"] == {
        "type": "network",
        "id": "198.51.100.0/24",
        "name": "198.51.100.0/24",
    }
    [event] = audit_events(app, EVENT)
    assert (event.target_type, event.target_id) == ("network", "198.51.100.0/24")
    assert event.details == {
        "network": "198.51.100.0/24",
        "failures": THRESHOLD,
        "seconds": BUCKET_SECONDS,
        "alert_id": str(alert.id),
    }
    [row] = raised(app)
    assert (row.kind, row.subject, row.hour, row.alert_id) == (
        "auth_failures",
        "198.51.100.0/24",
        current_hour(),
        alert.id,
    )

    for _ in range(THRESHOLD):
        refused(client, "198.51.100.9")  # past the threshold, same bucket
    start_of_a_bucket()
    for _ in range(THRESHOLD):
        refused(client, "198.51.100.9")  # a new bucket reaches it again, same hour

    assert len(mail_server.messages) == 1
    assert len(alerts_of(app, EVENT)) == 1
    assert len(raised(app)) == 1


def test_another_ipv4_network_counts_on_its_own(app, client, mail_server):
    start_of_a_bucket()
    for _ in range(THRESHOLD - 1):
        refused(client, "198.51.100.1")
        refused(client, "203.0.113.1")
    refused(client, "198.51.101.1")  # a neighbouring /24
    assert mail_server.messages == []

    refused(client, "203.0.113.77")

    assert [mail["Subject"].rsplit(" ", 1)[1] for mail in mail_server.messages] == [
        "203.0.113.0/24"
    ]
    assert [row.subject for row in raised(app)] == ["203.0.113.0/24"]


def test_ipv6_addresses_are_grouped_by_48(app, client, mail_server):
    start_of_a_bucket()
    refused(client, "2001:db8:aaaa:1::1")
    refused(client, "2001:db8:aaaa:ffff::2")
    refused(client, "2001:db8:bbbb::1")  # another /48
    assert mail_server.messages == []

    refused(client, "2001:db8:aaaa:1234:5678::9")

    [mail] = mail_server.messages
    assert mail["Subject"].endswith(": 2001:db8:aaaa::/48")
    assert [(row.kind, row.subject) for row in raised(app)] == [
        ("auth_failures", "2001:db8:aaaa::/48")
    ]


def test_valid_keys_and_jwts_never_count(app, client, api_key_headers, admin_headers, mail_server):
    start_of_a_bucket()
    refused(client, "192.0.2.1")
    for _ in range(THRESHOLD + 2):
        ok = client.get(USERS, headers=api_key_headers, environ_base={"REMOTE_ADDR": "192.0.2.2"})
        assert ok.status_code == 200
        bad_jwt = client.get(
            USERS, headers=bearer("not.a.jwt"), environ_base={"REMOTE_ADDR": "192.0.2.3"}
        )
        assert bad_jwt.status_code == 401
    assert mail_server.messages == []

    for _ in range(THRESHOLD - 1):
        refused(client, "192.0.2.4")  # the threshold, exactly

    assert len(mail_server.messages) == 1
    store = app.extensions["owa_store"].client
    [counter] = store.keys("owa:{activity:net:192.0.2.0/24}:*")
    assert int(store.get(counter)) == THRESHOLD
    assert 0 < store.ttl(counter) <= BUCKET_SECONDS
