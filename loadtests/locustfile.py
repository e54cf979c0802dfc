"""Locust traffic for the rate-limit check: several API keys, and SDK users of whom one
has two tokens from two applications.

`loadtests/run` seeds the credentials and passes them in `LOADTEST_SEED` (a JSON file).
Each request is a success only when its status AND its rate-limit headers are right;
every request is also appended to `LOADTEST_RECORDS` (JSON lines) for the per-minute
checks that need all of them (`loadtests/checks.py`).
"""

import itertools
import json
import os
import re
import time

import gevent.ssl
from locust import constant_throughput, events, task
from locust.contrib.fasthttp import FastHttpUser

SEED = json.loads(open(os.environ["LOADTEST_SEED"]).read())  # noqa: SIM115
RECORDS = open(os.environ["LOADTEST_RECORDS"], "a", buffering=1 << 16)  # noqa: SIM115
API_KEYS = itertools.cycle(SEED["api_keys"] * SEED["users_per_key"])
SDK_TOKENS = itertools.cycle(SEED["sdk_tokens"] * SEED["users_per_token"])
RATELIMIT = re.compile(r'^"default";r=(\d+);t=(\d+)$')


@events.quitting.add_listener
def _close_records(**_):
    RECORDS.close()


def header_problems(response, limit: int, now: float) -> list[str]:
    """What is wrong with the status and rate-limit headers of one response."""
    headers, status = response.headers, response.status_code
    if status not in (200, 429):
        return [f"status {status}"]
    problems = []
    try:
        remaining = int(headers["X-RateLimit-Remaining"])
        reset = int(headers["X-RateLimit-Reset"])
        ietf = RATELIMIT.match(headers["RateLimit"])
    except (KeyError, TypeError, ValueError):
        return ["X-RateLimit-* or RateLimit header missing or not a number"]
    if headers.get("X-RateLimit-Limit") != str(limit):
        problems.append(f"X-RateLimit-Limit {headers.get('X-RateLimit-Limit')} != {limit}")
    if headers.get("RateLimit-Policy") != f'"default";q={limit};w=60':
        problems.append(f"RateLimit-Policy {headers.get('RateLimit-Policy')}")
    if not 0 <= remaining < limit:
        problems.append(f"X-RateLimit-Remaining {remaining}")
    if not now - 1 <= reset <= now + 61:
        problems.append(f"X-RateLimit-Reset {reset} not within a minute of {now:.0f}")
    if ietf is None or int(ietf.group(1)) != remaining:
        problems.append(f"RateLimit {headers.get('RateLimit')}")
    if status == 200 and "Retry-After" in headers:
        problems.append("Retry-After on a 200")
    if status == 429:
        retry_after = headers.get("Retry-After", "")
        if not retry_after.isdigit() or not 1 <= int(retry_after) <= 60:
            problems.append(f"Retry-After {retry_after!r}")
        if remaining != 0:
            problems.append(f"429 with X-RateLimit-Remaining {remaining}")
    return problems


def _trust_the_stack_certificate():
    return gevent.ssl.create_default_context(cafile=os.environ["LOADTEST_CA"])


class LimitedUser(FastHttpUser):
    abstract = True
    insecure = False
    ssl_context_factory = staticmethod(_trust_the_stack_certificate)
    kind = ""
    limit = 0

    def call(self, path: str, token: str, subject: str) -> None:
        sent = time.time()
        with self.client.get(
            path,
            headers={"Authorization": f"Bearer {token}"},
            name=f"{self.kind} {path.split('?')[0] if self.kind == 'api_key' else 'user'}",
            catch_response=True,
        ) as response:
            received = time.time()
            problems = header_problems(response, self.limit, received)
            if problems:
                response.failure("; ".join(problems))
            else:
                response.success()
        record = {
            "kind": self.kind,
            "subject": subject,
            "sent": sent,
            "received": received,
            "status": response.status_code,
            "problems": problems,
        }
        RECORDS.write(json.dumps(record) + "\n")


class ApiKeyTraffic(LimitedUser):
    """Server-to-server calls, each key shared by several Locust users."""

    fixed_count = len(SEED["api_keys"]) * SEED["users_per_key"]
    wait_time = constant_throughput(SEED["api_key_rate_per_user"])
    kind = "api_key"
    limit = SEED["limits"]["api_key"]

    def on_start(self) -> None:
        self.key = next(API_KEYS)

    @task
    def list_users(self) -> None:
        self.call("/api/v1/users?limit=1", self.key["key"], self.key["id"])


class SdkTraffic(LimitedUser):
    """Mobile apps reading their own user; one user holds tokens from two applications."""

    fixed_count = len(SEED["sdk_tokens"]) * SEED["users_per_token"]
    wait_time = constant_throughput(SEED["sdk_rate_per_user"])
    kind = "sdk"
    limit = SEED["limits"]["sdk"]

    def on_start(self) -> None:
        self.token = next(SDK_TOKENS)

    @task
    def read_own_user(self) -> None:
        user_id = self.token["user_id"]
        self.call(f"/api/v1/users/{user_id}", self.token["token"], user_id)
