"""The one password policy, for every place a developer password is set (NIST SP 800-63B).

Length and a blocklist, nothing else: no composition rules, no forced expiry. Each
refusal names its rule (`min_length`, `max_length`, `email`, `common`) so a client can
explain it.
"""

import gzip
import unicodedata
from functools import cache
from pathlib import Path

from app.core.errors import ApiError

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    """Royce Williams' 20,000 most common breached passwords, lower-cased (see data/)."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def policy_violations(password: str, email: str) -> list[str]:
    """Why `password` may not be set for the account `email`; empty when it may."""
    # NIST asks for Unicode normalisation before counting and comparing.
    normalised = unicodedata.normalize("NFKC", password)
    length = len(normalised)
    if length < MIN_LENGTH:
        return [f"min_length: use at least {MIN_LENGTH} characters."]
    if length > MAX_LENGTH:
        return [f"max_length: use at most {MAX_LENGTH} characters."]
    folded = normalised.strip().casefold()
    email = email.strip().casefold()
    if folded in {email, email.partition("@")[0]}:
        return ["email: must not be your e-mail address."]
    if folded in common_passwords():
        return ["common: this password is in a list of commonly used passwords; choose another."]
    return []


def enforce_password_policy(password: str, email: str, field: str) -> None:
    """Raise the 422 a client sees when `password` breaks the policy."""
    violations = policy_violations(password, email)
    if violations:
        raise ApiError(
            422, f"Validation error. {field}: {' '.join(violations)}", errors={field: violations}
        )
