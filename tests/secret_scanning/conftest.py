"""GitHub's side of secret scanning: a P-256 key pair of our own, its public key in a
file of GitHub's format, and reports signed with it."""

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from werkzeug.test import TestResponse

REPORTS = "/api/v1/secret-scanning/reports"
KEY_IDENTIFIER = "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c"


def public_keys_document(*keys: tuple[str, ec.EllipticCurvePrivateKey]) -> dict:
    return {
        "public_keys": [
            {
                "key_identifier": identifier,
                "key": key.public_key()
                .public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                .decode(),
                "is_current": True,
            }
            for identifier, key in keys
        ]
    }


def sign(body: bytes, key: ec.EllipticCurvePrivateKey) -> str:
    return base64.b64encode(key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


@pytest.fixture(scope="session")
def github_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def public_keys_file(tmp_path, github_key) -> Path:
    path = tmp_path / "secret-scanning-keys.json"
    path.write_text(json.dumps(public_keys_document((KEY_IDENTIFIER, github_key))))
    return path


@pytest.fixture
def config_overrides(public_keys_file):
    return {"SECRET_SCANNING_PUBLIC_KEYS_FILE": str(public_keys_file)}


@pytest.fixture
def report(client, github_key) -> Callable[..., TestResponse]:
    """POST a report as GitHub does: `tokens` as the JSON array, or `body` as is."""

    def send(
        tokens: list[dict] | None = None,
        body: bytes | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
        identifier: str = KEY_IDENTIFIER,
        to=None,
    ) -> TestResponse:
        raw = body if body is not None else json.dumps(tokens).encode()
        headers = {
            "Github-Public-Key-Identifier": identifier,
            "Github-Public-Key-Signature": sign(raw, key or github_key),
        }
        return (to or client).post(
            REPORTS, data=raw, headers=headers, content_type="application/json"
        )

    return send


def leak(token: str, url: str = "https://github.com/octo/app/blob/abc123/settings.py") -> dict:
    return {"token": token, "type": "open_wearables_api_key", "url": url, "source": "commit"}
