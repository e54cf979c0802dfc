"""The asymmetric signing keys of access JWTs (`JWT_ALGORITHM` ES256 or EdDSA).

Every key lives in one PEM file (`JWT_PRIVATE_KEYS_FILE`) that all workers and hosts
share. Each private key may be preceded by a `not_before: <ISO 8601 UTC>` line (text
outside the PEM boundaries, which RFC 7468 parsers ignore): the key is published in the
JWKS at once, but signs only from that moment. The signer is the active key that became
active last; every key in the file verifies. A key's `kid` is its RFC 7638 thumbprint.

Workers re-read the file whenever its modification time, inode or size changes (one
`stat` per use), so a rotation or retirement reaches every worker without a restart.
"""

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from flask import Flask, current_app
from jwt.algorithms import ECAlgorithm, OKPAlgorithm
from jwt.exceptions import InvalidKeyError

from app.extensions import jwt

logger = logging.getLogger(__name__)

SYMMETRIC_ALGORITHM = "HS256"
DEVELOPMENT_KEYS_FILE = "jwt-signing-keys.pem"
NOT_BEFORE = "not_before"
PEM_BLOCK = re.compile(
    r"(?P<metadata>(?:^[a-z_]+:[^\n]*\n)*)"
    r"(?P<pem>-----BEGIN (?:EC )?PRIVATE KEY-----\n.*?\n-----END (?:EC )?PRIVATE KEY-----)",
    re.MULTILINE | re.DOTALL,
)
THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class SigningKeyError(Exception):
    """The key file is missing, unreadable, or holds keys the algorithm cannot use."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: PrivateKey
    not_before: datetime | None
    """None: active since it was added (the first key, or one added by hand)."""
    position: int
    """Order in the file; breaks ties between keys that became active together."""

    def is_active(self, now: datetime) -> bool:
        return self.not_before is None or self.not_before <= now

    @property
    def activation_order(self) -> tuple[datetime, int]:
        return (self.not_before or datetime.min.replace(tzinfo=UTC), self.position)

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()


def _jwk_of(public_key: PublicKey) -> dict[str, Any]:
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return OKPAlgorithm.to_jwk(public_key, as_dict=True)
    return ECAlgorithm.to_jwk(public_key, as_dict=True)


def thumbprint(public_key: PublicKey) -> str:
    """RFC 7638 JWK thumbprint: SHA-256 of the required members, sorted, no whitespace."""
    jwk = _jwk_of(public_key)
    required = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def _check_fits(private_key: object, algorithm: str) -> PrivateKey:
    if algorithm == "EdDSA" and isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key
    if (
        algorithm == "ES256"
        and isinstance(private_key, ec.EllipticCurvePrivateKey)
        and isinstance(private_key.curve, ec.SECP256R1)
    ):
        return private_key
    raise SigningKeyError(f"a key in the signing key file is not a {algorithm} key")


def _parse_not_before(metadata: str) -> datetime | None:
    for line in metadata.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == NOT_BEFORE:
            moment = datetime.fromisoformat(value.strip())
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def parse_keys(text: str, algorithm: str) -> list[SigningKey]:
    keys = []
    for position, block in enumerate(PEM_BLOCK.finditer(text)):
        try:
            loaded = serialization.load_pem_private_key(block["pem"].encode(), password=None)
            not_before = _parse_not_before(block["metadata"])
        except ValueError as error:
            raise SigningKeyError(f"unreadable key in the signing key file: {error}") from error
        private_key = _check_fits(loaded, algorithm)
        kid = thumbprint(private_key.public_key())
        keys.append(SigningKey(kid, private_key, not_before, position))
    return keys


def format_keys(keys: list[SigningKey]) -> str:
    blocks = []
    for key in keys:
        metadata = f"{NOT_BEFORE}: {key.not_before.isoformat()}\n" if key.not_before else ""
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        blocks.append(metadata + pem)
    return "".join(blocks)


def generate_private_key(algorithm: str) -> PrivateKey:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


class KeyRing:
    """The key file's keys, re-read when the file changes (cheap `stat` per use).

    An in-place edit can keep the size and land within the same timestamp tick as the
    version already read (the "racy git" problem), so while the file's modification time
    is within `RACY_SECONDS` of when it was read, each use compares the content too.
    """

    RACY_SECONDS = 2.0

    def __init__(self, path: Path, algorithm: str) -> None:
        self.path = path
        self.algorithm = algorithm
        self._lock = threading.Lock()
        self._version: tuple[int, int, int] | None = None
        self._text: str | None = None
        self._racy = False
        self._keys: list[SigningKey] = []

    def all_keys(self) -> list[SigningKey]:
        try:
            status = self.path.stat()
        except FileNotFoundError as error:
            raise SigningKeyError(
                f"signing key file {self.path} does not exist; create it with "
                "`flask rotate-signing-key`"
            ) from error
        version = (status.st_mtime_ns, status.st_ino, status.st_size)
        if version != self._version or self._racy:
            with self._lock:
                if version != self._version or self._racy:
                    self._reload(version, status.st_mtime)
        return self._keys

    def _reload(self, version: tuple[int, int, int], modified_at: float) -> None:
        """A file broken by a hand edit keeps the keys already loaded (logged) rather
        than failing every request; the first load has nothing to fall back on."""
        self._racy = time.time() - modified_at < self.RACY_SECONDS
        text = self.path.read_text()
        if text != self._text:
            try:
                self._keys = parse_keys(text, self.algorithm)
            except SigningKeyError:
                if self._version is None:
                    raise
                logger.exception("keeping the previous signing keys: %s is unreadable", self.path)
            self._text = text
        self._version = version

    def signer(self, now: datetime | None = None) -> SigningKey:
        now = now or datetime.now(UTC)
        active = [key for key in self.all_keys() if key.is_active(now)]
        if not active:
            raise SigningKeyError(f"no active signing key in {self.path}")
        return max(active, key=lambda key: key.activation_order)

    def find(self, kid: str) -> SigningKey | None:
        return next((key for key in self.all_keys() if key.kid == kid), None)


def is_asymmetric(app: Flask) -> bool:
    return str(app.config["JWT_ALGORITHM"]) != SYMMETRIC_ALGORITHM


def keys_file(app: Flask) -> Path:
    configured = app.config["JWT_PRIVATE_KEYS_FILE"]
    return Path(configured) if configured else Path(app.instance_path) / DEVELOPMENT_KEYS_FILE


def key_ring() -> KeyRing:
    ring: KeyRing = current_app.extensions["owa_key_ring"]
    return ring


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """Every key of the file, pending ones included: verifiers learn a key before it signs."""
    if not is_asymmetric(current_app):
        return {"keys": []}
    ring = key_ring()
    return {
        "keys": [
            {**_jwk_of(key.public_key), "kid": key.kid, "use": "sig", "alg": ring.algorithm}
            for key in ring.all_keys()
        ]
    }


# flask-jwt-extended asks for the headers, then for the key, within one token creation;
# the signer chosen for the `kid` is handed to the key loader so both always agree, even
# when a new key becomes active between the two calls.
_chosen_signer: ContextVar[SigningKey | None] = ContextVar("chosen_signer", default=None)


def _token_headers(identity: object) -> dict[str, str]:
    if not is_asymmetric(current_app):
        return {}
    signer = key_ring().signer()
    _chosen_signer.set(signer)
    return {"kid": signer.kid}


def _symmetric_key() -> str:
    secret: str = current_app.config["JWT_SECRET_KEY"]
    return secret


def _encode_key(identity: object) -> str | PrivateKey:
    if not is_asymmetric(current_app):
        return _symmetric_key()
    signer = _chosen_signer.get() or key_ring().signer()
    _chosen_signer.set(None)
    return signer.private_key


def _decode_key(header: dict[str, Any], claims: dict[str, Any]) -> str | PublicKey:
    if not is_asymmetric(current_app):
        return _symmetric_key()
    key = key_ring().find(str(header.get("kid", "")))
    if key is None:
        raise InvalidKeyError("unknown signing key")
    return key.public_key


def init_signing_keys(app: Flask) -> None:
    app.extensions["owa_key_ring"] = KeyRing(keys_file(app), app.config["JWT_ALGORITHM"])
    jwt.additional_headers_loader(_token_headers)
    jwt.encode_key_loader(_encode_key)
    jwt.decode_key_loader(_decode_key)


@contextmanager
def _editing(path: Path, algorithm: str) -> Iterator[list[SigningKey]]:
    """Yield the file's keys for changing in place, under an exclusive lock (two
    operators rotating at once cannot lose a key), then replace the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        keys = parse_keys(path.read_text(), algorithm) if path.exists() else []
        yield keys
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
        with os.fdopen(descriptor, "w") as handle:
            handle.write(format_keys(keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)


def add_key(path: Path, algorithm: str, activation_delay_seconds: int) -> SigningKey:
    """A new key, published at once. It signs after `activation_delay_seconds` (0: at
    once), or at once when the file has no key yet (nothing to wait for). Every key but
    a first one records its `not_before`: retiring its predecessor depends on it."""
    with _editing(path, algorithm) as keys:
        not_before = None
        if keys:
            not_before = datetime.now(UTC).replace(microsecond=0) + timedelta(
                seconds=activation_delay_seconds
            )
        private_key = generate_private_key(algorithm)
        key = SigningKey(thumbprint(private_key.public_key()), private_key, not_before, len(keys))
        keys.append(key)
    return key


class RetireRefusedError(Exception):
    """The key may not be retired now; the message says why."""


def retirable_at(keys: list[SigningKey], kid: str, token_lifetime_seconds: int) -> datetime | None:
    """When the last token `kid` signed expires: its successor's activation plus the
    longest token lifetime. None when it never signed (still pending)."""
    now = datetime.now(UTC)
    key = next(key for key in keys if key.kid == kid)
    if not key.is_active(now):
        return None
    successors = [
        other
        for other in keys
        if other.activation_order > key.activation_order and other.is_active(now)
    ]
    if not successors:
        raise RetireRefusedError(f"{kid} is the current signing key; rotate first")
    stopped_signing = min(successors, key=lambda other: other.activation_order).not_before
    if stopped_signing is None:
        raise RetireRefusedError(
            f"the key after {kid} has no not_before, so when {kid} stopped signing is "
            "unknown; pass --force once the tokens it signed have expired"
        )
    return stopped_signing + timedelta(seconds=token_lifetime_seconds)


def retire_key(
    path: Path, algorithm: str, kid: str, token_lifetime_seconds: int, force: bool
) -> None:
    """Remove `kid`: tokens it signed stop verifying everywhere. Refused while it signs,
    and (unless `force`, for a leaked key) while tokens it signed may still be valid."""
    with _editing(path, algorithm) as keys:
        if not any(key.kid == kid for key in keys):
            raise RetireRefusedError(f"no signing key {kid}")
        if not force:
            until = retirable_at(keys, kid, token_lifetime_seconds)
            if until is not None and until > datetime.now(UTC):
                raise RetireRefusedError(
                    f"tokens signed with {kid} are valid until {until.isoformat()}; retire "
                    "it then, or pass --force if the key leaked"
                )
        elif not any(key.kid != kid and key.is_active(datetime.now(UTC)) for key in keys):
            raise RetireRefusedError("no other key is active; run rotate-signing-key --now first")
        keys[:] = [key for key in keys if key.kid != kid]
