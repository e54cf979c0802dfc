"""Mixed traffic for fault tests: every client thread owns its credentials, so what each
answer must be is known exactly, whatever the other threads and the faults do."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

TIMEOUT = 15
ME = "/api/v1/auth/me"
USERS = "/api/v1/users"


@dataclass
class Tally:
    """Every answer, by phase, and the answers that broke a promise."""

    sent: int = 0
    server_errors: list[str] = field(default_factory=list)
    revoked_accepted: list[str] = field(default_factory=list)
    valid_refused: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, phase: str, what: str, status: int, expected: int | str) -> None:
        with self.lock:
            self.sent += 1
            self.statuses[f"{phase} {what} {status}"] += 1
            line = f"{phase}: {what} → {status}"
            if status >= 500:
                self.server_errors.append(line)
            elif expected == 401 and status != 401:
                self.revoked_accepted.append(line)
            elif expected == "2xx" and not 200 <= status < 300:
                self.valid_refused.append(line)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Client:
    """One caller of the API: a developer session, an API key, an end user with an SDK
    session; it keeps every credential it saw revoked to probe it again later."""

    def __init__(self, base: str, tally: Tally, user_id: str, api_key: dict) -> None:
        self.base = base
        self.tally = tally
        self.user_id = user_id
        self.key_id = api_key["id"]
        self.key = api_key["key"]
        self.http = requests.Session()
        self.phase = "setup"
        self.session = self._login()
        self.sdk = self._mint()
        self.revoked_bearers: list[tuple[str, str]] = []
        """(a path the credential could read before, the credential)"""
        self.revoked_refresh_tokens: list[str] = []

    def _call(self, what: str, expected: int | str, method: str, path: str, **options):
        response = self.http.request(method, self.base + path, timeout=TIMEOUT, **options)
        self.tally.record(self.phase, what, response.status_code, expected)
        return response

    def _login(self) -> dict:
        return self._call(
            "login",
            "2xx",
            "POST",
            "/api/v1/auth/login",
            data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        ).json()

    def _mint(self) -> dict:
        return self._call(
            "sdk mint",
            "2xx",
            "POST",
            f"/api/v1/users/{self.user_id}/token",
            headers=bearer(self.session["access_token"]),
        ).json()

    def _refresh(self, what: str, refresh_token: str, expected: int | str):
        return self._call(
            what, expected, "POST", "/api/v1/auth/refresh", json={"refresh_token": refresh_token}
        )

    @property
    def sdk_path(self) -> str:
        return f"/api/v1/users/{self.user_id}"

    def reads(self) -> None:
        for what, path, token in (
            ("jwt read", ME, self.session["access_token"]),
            ("api-key read", USERS, self.key),
            ("sdk read", self.sdk_path, self.sdk["access_token"]),
        ):
            self._call(what, "2xx", "GET", path, headers=bearer(token))

    def writes(self) -> None:
        """A refresh, a logout and a new login, a key rotation, an SDK refresh-token reuse
        (which revokes that SDK session) and a new SDK session."""
        old = self.session
        self.session = self._refresh("refresh", old["refresh_token"], "2xx").json()
        self.revoked_refresh_tokens.append(old["refresh_token"])
        logout_headers = bearer(self.session["access_token"])
        self._call("logout", "2xx", "POST", "/api/v1/auth/logout", headers=logout_headers)
        self.revoked_bearers += [(ME, old["access_token"]), (ME, self.session["access_token"])]
        self.revoked_refresh_tokens.append(self.session["refresh_token"])
        self.session = self._login()

        rotated = self._call(
            "key rotation",
            "2xx",
            "POST",
            f"/api/v1/api-keys/{self.key_id}/rotate",
            headers=bearer(self.session["access_token"]),
        ).json()
        self.revoked_bearers.append((USERS, self.key))
        self.key = rotated["key"]

        old_sdk = self.sdk
        newer = self._refresh("sdk refresh", old_sdk["refresh_token"], "2xx").json()
        self._refresh("sdk reuse", old_sdk["refresh_token"], 401)
        self.revoked_bearers += [
            (self.sdk_path, old_sdk["access_token"]),
            (self.sdk_path, newer["access_token"]),
        ]
        self.revoked_refresh_tokens.append(newer["refresh_token"])
        self.sdk = self._mint()

    def probe_revoked(self, every: bool = False) -> None:
        """The latest revoked credentials (or all of them): each must get 401."""
        bearers = self.revoked_bearers if every else self.revoked_bearers[-4:]
        refresh_tokens = self.revoked_refresh_tokens if every else self.revoked_refresh_tokens[-1:]
        for path, token in bearers:
            self._call("revoked credential", 401, "GET", path, headers=bearer(token))
        for token in refresh_tokens:
            self._refresh("revoked refresh token", token, 401)


def run_clients(clients: list[Client], phase: str, seconds: float) -> None:
    """Each client in its own thread: reads, writes and probes until `seconds` pass."""
    deadline = time.monotonic() + seconds

    def loop(client: Client) -> None:
        client.phase = phase
        while time.monotonic() < deadline:
            client.reads()
            client.writes()
            client.probe_revoked()

    threads = [threading.Thread(target=loop, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
