"""ES256/EdDSA access tokens, the key file, rotation, retirement and the JWKS."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from app.signing_keys import services
from tests.support.auth import bearer, login

ASYMMETRIC = ("ES256", "EdDSA")


def header_of(token: str) -> dict:
    return jwt.get_unverified_header(token)


def key_file_with(path, algorithm: str, *not_befores: datetime | None):
    keys = [
        services.SigningKey(
            services.thumbprint((private := services.generate_private_key(algorithm)).public_key()),
            private,
            not_before,
            position,
        )
        for position, not_before in enumerate(not_befores)
    ]
    path.write_text(services.format_keys(keys))
    return keys


@pytest.fixture
def asymmetric_app(make_app, tmp_path):
    def build(algorithm: str, *not_befores: datetime | None, **overrides):
        path = tmp_path / "keys.pem"
        keys = key_file_with(path, algorithm, *(not_befores or (None,)))
        app = make_app(JWT_ALGORITHM=algorithm, JWT_PRIVATE_KEYS_FILE=str(path), **overrides)
        return app, keys, path

    return build


def test_hs256_by_default_tokens_have_no_kid_and_the_jwks_is_empty(client, admin_tokens):
    header = header_of(admin_tokens["access_token"])
    jwks = client.get("/.well-known/jwks.json")

    assert header == {"alg": "HS256", "typ": "JWT"}
    assert jwks.status_code == 200
    assert jwks.get_json() == {"keys": []}
    assert jwks.headers["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_asymmetric_tokens_carry_the_kid_of_a_published_key(asymmetric_app, admin, algorithm):
    app, keys, _ = asymmetric_app(algorithm)
    client = app.test_client()

    tokens = login(client, admin["email"], admin["password"]).get_json()
    jwks = client.get("/.well-known/jwks.json").get_json()

    header = header_of(tokens["access_token"])
    assert header["alg"] == algorithm
    assert header["kid"] == keys[0].kid
    assert [key["kid"] for key in jwks["keys"]] == [keys[0].kid]
    assert jwks["keys"][0]["alg"] == algorithm
    assert jwks["keys"][0]["use"] == "sig"
    assert "d" not in jwks["keys"][0]
    public_key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(tokens["access_token"], public_key, algorithms=[algorithm])
    assert claims["type"] == "developer"
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])).status_code == 200


def test_a_pending_key_is_published_but_does_not_sign(asymmetric_app, admin):
    later = datetime.now(UTC) + timedelta(hours=1)
    app, (current, pending), _ = asymmetric_app("ES256", None, later)
    client = app.test_client()

    token = login(client, admin["email"], admin["password"]).get_json()["access_token"]
    published = [key["kid"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]]

    assert header_of(token)["kid"] == current.kid
    assert published == [current.kid, pending.kid]


def test_the_newest_active_key_signs_and_older_ones_still_verify(asymmetric_app, admin):
    app, (old, new), path = asymmetric_app("EdDSA", None, datetime.now(UTC) + timedelta(hours=1))
    client = app.test_client()
    old_token = login(client, admin["email"], admin["password"]).get_json()["access_token"]
    activated = [old, services.SigningKey(new.kid, new.private_key, datetime.now(UTC), 1)]
    path.write_text(services.format_keys(activated) + "\n")

    new_token = login(client, admin["email"], admin["password"]).get_json()["access_token"]

    assert header_of(old_token)["kid"] == old.kid
    assert header_of(new_token)["kid"] == new.kid
    for token in (old_token, new_token):
        assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200


def test_tokens_of_a_removed_key_an_unknown_kid_or_hs256_are_refused(
    asymmetric_app, admin, admin_tokens
):
    app, (old, new), path = asymmetric_app("ES256", None, None)
    client = app.test_client()
    token = login(client, admin["email"], admin["password"]).get_json()["access_token"]
    assert header_of(token)["kid"] == new.kid
    claims = jwt.decode(token, options={"verify_signature": False})
    unknown = jwt.encode(claims, old.private_key, "ES256", headers={"kid": "unknown"})
    path.write_text(services.format_keys([old]))

    for rejected in (token, unknown, admin_tokens["access_token"]):
        response = client.get("/api/v1/auth/me", headers=bearer(rejected))
        assert response.status_code == 401
        assert response.get_json() == {"detail": "Invalid token."}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"JWT_ALGORITHM": "RS256"}, "JWT_ALGORITHM must be one of HS256, ES256, EdDSA."),
        ({"JWT_ALGORITHM": "ES256", "APP_ENV": "testing"}, "needs JWT_PRIVATE_KEYS_FILE"),
        (
            {"JWKS_CACHE_SECONDS": 600, "JWT_KEY_ACTIVATION_DELAY_SECONDS": 600},
            "JWT_KEY_ACTIVATION_DELAY_SECONDS must exceed JWKS_CACHE_SECONDS.",
        ),
    ],
)
def test_inconsistent_signing_settings_are_refused_at_startup(make_app, overrides, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        make_app(**overrides)


def test_a_key_of_the_wrong_algorithm_is_refused(asymmetric_app, admin):
    app, _, path = asymmetric_app("ES256")
    key_file_with(path, "EdDSA", None)

    with app.app_context(), pytest.raises(services.SigningKeyError, match="not a ES256 key"):
        services.key_ring().signer()


def test_an_in_place_edit_within_one_timestamp_tick_is_noticed(asymmetric_app, admin):
    app, _, path = asymmetric_app("ES256")
    client = app.test_client()
    assert login(client, admin["email"], admin["password"]).status_code == 200
    before = path.stat()

    (replacement,) = key_file_with(path, "ES256", None)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    token = login(client, admin["email"], admin["password"]).get_json()["access_token"]

    assert path.stat().st_size == before.st_size
    assert header_of(token)["kid"] == replacement.kid


def test_a_broken_key_file_keeps_the_keys_already_loaded(asymmetric_app, admin, caplog):
    app, (key,), path = asymmetric_app("ES256")
    client = app.test_client()
    assert login(client, admin["email"], admin["password"]).status_code == 200

    path.write_text(
        "not_before: 2026-01-01T00:00:00+00:00\n-----BEGIN PRIVATE KEY-----\nAAAA\n"
        "-----END PRIVATE KEY-----\n"
    )
    token = login(client, admin["email"], admin["password"]).get_json()["access_token"]

    assert header_of(token)["kid"] == key.kid
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert "keeping the previous signing keys" in caplog.text


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_rotate_publishes_first_and_signs_after_the_delay(asymmetric_app, admin):
    app, (first,), path = asymmetric_app("ES256")

    result = invoke(app, "rotate-signing-key")

    assert result.exit_code == 0, result.output
    keys = services.parse_keys(path.read_text(), "ES256")
    assert keys[0].kid == first.kid
    added = keys[1]
    assert f"Added ES256 key {added.kid}" in result.output
    delay = (added.not_before - datetime.now(UTC)).total_seconds()
    assert 890 <= delay <= 900
    client = app.test_client()
    published = [key["kid"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert published == [first.kid, added.kid]
    token = login(client, admin["email"], admin["password"]).get_json()["access_token"]
    assert header_of(token)["kid"] == first.kid


def test_rotate_now_signs_at_once(asymmetric_app, admin):
    app, _, path = asymmetric_app("EdDSA")

    assert invoke(app, "rotate-signing-key", "--now").exit_code == 0

    added = services.parse_keys(path.read_text(), "EdDSA")[1]
    token = login(app.test_client(), admin["email"], admin["password"]).get_json()["access_token"]
    assert header_of(token)["kid"] == added.kid


def test_retire_waits_until_the_tokens_a_key_signed_have_expired(asymmetric_app):
    an_hour_ago = datetime.now(UTC) - timedelta(seconds=3600)
    app, (old, recent), path = asymmetric_app(
        "ES256", None, datetime.now(UTC) - timedelta(minutes=5)
    )

    refused_current = invoke(app, "retire-signing-key", "--", recent.kid)
    refused_old = invoke(app, "retire-signing-key", "--", old.kid)

    assert refused_current.exit_code == 1
    assert "is the current signing key; rotate first" in refused_current.output
    assert refused_old.exit_code == 1
    assert f"tokens signed with {old.kid} are valid until" in refused_old.output
    assert len(services.parse_keys(path.read_text(), "ES256")) == 2

    key_file_with(path, "ES256", None, an_hour_ago - timedelta(seconds=1))
    old_kid = services.parse_keys(path.read_text(), "ES256")[0].kid
    retired = invoke(app, "retire-signing-key", "--", old_kid)
    assert retired.exit_code == 0, retired.output
    assert [key.kid for key in services.parse_keys(path.read_text(), "ES256")] != [old_kid]
    assert len(services.parse_keys(path.read_text(), "ES256")) == 1


def test_retire_after_rotate_now_waits_for_the_old_tokens(asymmetric_app):
    app, (old,), _ = asymmetric_app("ES256")
    assert invoke(app, "rotate-signing-key", "--now").exit_code == 0

    refused = invoke(app, "retire-signing-key", "--", old.kid)

    assert refused.exit_code == 1
    assert f"tokens signed with {old.kid} are valid until" in refused.output


def test_retire_refuses_when_the_successor_has_no_not_before(asymmetric_app):
    app, (old, _), _ = asymmetric_app("EdDSA", None, None)

    refused = invoke(app, "retire-signing-key", "--", old.kid)

    assert refused.exit_code == 1
    assert "has no not_before" in refused.output


def test_retire_force_removes_a_leaked_key_at_once(asymmetric_app, admin):
    app, (leaked, replacement), path = asymmetric_app("ES256", None, datetime.now(UTC))
    client = app.test_client()
    token = login(client, admin["email"], admin["password"]).get_json()["access_token"]
    path.write_text(services.format_keys([replacement, leaked]))
    leaked_token = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}),
        leaked.private_key,
        "ES256",
        headers={"kid": leaked.kid},
    )
    assert client.get("/api/v1/auth/me", headers=bearer(leaked_token)).status_code == 200

    result = invoke(app, "retire-signing-key", "--force", "--", leaked.kid)

    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/auth/me", headers=bearer(leaked_token)).status_code == 401
    published = [key["kid"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert published == [replacement.kid]


def test_signing_key_commands_refuse_hs256(app):
    result = invoke(app, "rotate-signing-key")

    assert result.exit_code == 1
    assert "JWT_ALGORITHM is HS256" in result.output


def test_ensure_signing_key_creates_a_development_key_only_when_missing(make_app, tmp_path):
    path = tmp_path / "instance" / "keys.pem"
    app = make_app(JWT_ALGORITHM="EdDSA", JWT_PRIVATE_KEYS_FILE=str(path))

    created = invoke(app, "ensure-signing-key")
    again = invoke(app, "ensure-signing-key")

    assert "Created a development EdDSA signing key" in created.output
    assert len(services.parse_keys(path.read_text(), "EdDSA")) == 1
    assert f"Signing keys: {path}." in again.output
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_the_development_key_file_defaults_to_the_instance_folder(make_app):
    app = make_app(JWT_ALGORITHM="ES256", APP_ENV="development")

    assert services.keys_file(app) == Path(app.instance_path) / "jwt-signing-keys.pem"


def test_kid_is_the_rfc_7638_thumbprint():
    """RFC 8037 appendix A.3: the thumbprint of its Ed25519 example key."""
    example = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}

    assert (
        services.thumbprint(jwt.PyJWK(example).key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    )


def test_introspection_follows_the_key_file(asymmetric_app, admin):
    app, (_, new), path = asymmetric_app("ES256", None, datetime.now(UTC) + timedelta(hours=1))
    client = app.test_client()
    token = login(client, admin["email"], admin["password"]).get_json()["access_token"]
    key = client.post("/api/v1/api-keys", json={"name": "Resource server"}, headers=bearer(token))
    headers = bearer(key.get_json()["key"])

    def introspect():
        return client.post("/api/v1/auth/introspect", data={"token": token}, headers=headers)

    assert introspect().get_json()["active"] is True
    path.write_text(services.format_keys([new]))
    assert introspect().get_json() == {"active": False}
