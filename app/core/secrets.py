"""Generation, recognition and digests of the platform's secrets.

Every secret is `<prefix><random base62><6-char base62 CRC32 of what precedes>`
(GitHub's token pattern): a mistyped or truncated secret is rejected without any
I/O, and a leaked one can be recognised by a scanner. Only HMAC digests are stored.
"""

import hmac
import re
import secrets
import zlib
from functools import lru_cache
from typing import Any

from flask import current_app

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CHECKSUM_LENGTH = 6
RANDOM_LENGTH = 32  # 32 base62 characters carry 190 bits


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def _checksum(body: str) -> str:
    value = zlib.crc32(body.encode("ascii"))
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, remainder = divmod(value, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def generate_secret(prefix: str, random_length: int = RANDOM_LENGTH) -> str:
    body = prefix + random_base62(random_length)
    return body + _checksum(body)


@lru_cache(maxsize=32)
def _shape(prefix: str, min_random_length: int) -> re.Pattern[str]:
    return re.compile(re.escape(prefix) + f"[0-9A-Za-z]{{{min_random_length + CHECKSUM_LENGTH},}}")


def is_well_formed(secret: str, prefix: str, min_random_length: int = RANDOM_LENGTH) -> bool:
    """Prefix, alphabet, length and checksum; pure computation, no I/O."""
    if not _shape(prefix, min_random_length).fullmatch(secret):
        return False
    body, checksum = secret[:-CHECKSUM_LENGTH], secret[-CHECKSUM_LENGTH:]
    return hmac.compare_digest(_checksum(body), checksum)


def digest(secret: str, pepper: str | None = None) -> str:
    """Keyed digest stored and looked up instead of the secret itself."""
    key = (pepper or current_app.config["TOKEN_PEPPER"]).encode()
    # hmac.digest: OpenSSL's one-shot HMAC, several times cheaper than hmac.new (every
    # API-key request computes one).
    return hmac.digest(key, secret.encode(), "sha256").hex()


class ShownOnce:
    """A row plus its new secret for the one response that shows it (creation or
    rotation): the response schema reads both alike, and the secret is never set on
    the row, so nothing can store or log it later."""

    def __init__(self, row: object, **secret: str) -> None:
        self._row = row
        self.__dict__.update(secret)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)
