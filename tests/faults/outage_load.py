"""Mixed client load that tolerates outages (503s, reset connections), tallied per phase.

Each thread logs in, then loops: write a workout (API key), list users (API key), read
its own account (JWT), rotate its refresh token, and now and then log in again. Every
answer is counted by phase and status; connection failures are counted apart (a
killed worker resets its connections; that is not an HTTP answer).
"""

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

# Limits far above what the load sends (these tests are about faults, not limits) and
# cheap password hashes (logins are part of the load).
LOAD_SERVER_SETTINGS = {
    "RATELIMIT_API_KEY": "100000 per minute",
    "RATELIMIT_DEVELOPER": "100000 per minute",
    "RATELIMIT_PER_IP": "100000 per minute",
    "PASSWORD_HASH_TIME_COST": "1",
    "PASSWORD_HASH_MEMORY_KIB": "1024",
}


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    """(phase, status) → answers."""
    connection_errors: Counter = field(default_factory=Counter)
    """phase → requests that got no HTTP answer."""
    written: set[str] = field(default_factory=set)
    """external_ids of workouts answered 2xx."""
    problems: list[str] = field(default_factory=list)
    """5xx other than a well-formed 503 (detail + Retry-After)."""

    def count(self, phase: str, *statuses: int) -> int:
        return sum(
            n
            for (p, s), n in self.statuses.items()
            if p == phase and (not statuses or s in statuses)
        )

    def total(self, *statuses: int) -> int:
        return sum(n for (_, s), n in self.statuses.items() if not statuses or s in statuses)


class MixedLoad:
    def __init__(self, base: str, api_key: str, user_id: str, threads: int = 3) -> None:
        self.base = base
        self.api_key = {"Authorization": f"Bearer {api_key}"}
        self.user_id = user_id
        self.tally = Tally()
        self.phase = "before"
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(number,), daemon=True)
            for number in range(threads)
        ]

    def __enter__(self) -> "MixedLoad":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(30)

    def _send(self, method: str, path: str, **options) -> requests.Response | None:
        phase = self.phase
        try:
            response = requests.request(method, self.base + path, timeout=15, **options)
        except requests.RequestException:
            with self._lock:
                self.tally.connection_errors[phase] += 1
            return None
        with self._lock:
            self.tally.statuses[phase, response.status_code] += 1
            if response.status_code >= 500 and not _well_formed_503(response):
                self.tally.problems.append(
                    f"{phase}: {method} {path} → {response.status_code} {response.text[:200]}"
                )
        return response

    def _login(self) -> dict | None:
        response = self._send(
            "POST",
            "/api/v1/auth/login",
            data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        )
        return response.json() if response is not None and response.ok else None

    def _run(self, number: int) -> None:
        tokens = None
        workouts = f"/api/v1/users/{self.user_id}/events/workouts"
        for sequence in itertools.count():
            if self._stopping.is_set():
                return
            if tokens is None or sequence % 20 == 0:
                tokens = self._login() or tokens
            external_id = f"t{number}-{sequence}"
            workout = {
                "external_id": external_id,
                "type": "running",
                "start_time": "2026-03-02T06:00:00Z",
                "end_time": "2026-03-02T06:45:00Z",
            }
            written = self._send("POST", workouts, json={"data": [workout]}, headers=self.api_key)
            if written is not None and written.ok:
                with self._lock:
                    self.tally.written.add(external_id)
            self._send("GET", "/api/v1/users", headers=self.api_key)
            if tokens is not None:
                bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
                self._send("GET", "/api/v1/auth/me", headers=bearer)
                refreshed = self._send(
                    "POST", "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
                )
                if refreshed is not None and refreshed.ok:
                    tokens = refreshed.json()
                elif refreshed is not None and refreshed.status_code == 401:
                    # Consumed by a commit whose answer was lost: start a new session.
                    tokens = None
            time.sleep(0.01)


def _well_formed_503(response: requests.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        response.status_code == 503
        and isinstance(body.get("detail"), str)
        and response.headers.get("Retry-After", "").isdigit()
    )
