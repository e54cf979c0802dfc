"""The client's RFC 7009 revocation (`SdkSession.logout`) and RFC 7662 introspection
(`OpenWearables.introspect`) against the live app."""

from datetime import timedelta

from openwearables import Introspection, SdkSession


def test_introspect_describes_a_live_sdk_token(server_client, live, application, user):
    with SdkSession.from_app_credentials(
        live.url, application["app_id"], application["app_secret"], user["id"]
    ) as session:
        answer = server_client.introspect(session.access_token)

    assert answer.active is True
    assert answer.token_type == "access_token"
    assert answer.kind == "sdk"
    assert answer.subject == user["id"]
    assert answer.app_id == application["app_id"]
    assert answer.expires_at - answer.issued_at == timedelta(hours=1)
    assert server_client.introspect("garbage") == Introspection(active=False)


def test_revoke_ends_the_sdk_session_everywhere(server_client, live, application, user):
    session = SdkSession.from_app_credentials(
        live.url, application["app_id"], application["app_secret"], user["id"]
    )
    access_token, refresh_token = session.access_token, session.refresh_token

    session.logout()

    assert server_client.introspect(access_token) == Introspection(active=False)
    assert server_client.introspect(refresh_token) == Introspection(active=False)
