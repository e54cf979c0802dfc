"""Start the real stack on loopback, seed it, drive it with Locust, judge the limits.

    .venv/bin/python -m loadtests.harness   (what `loadtests/run` and `make loadtest` do)

A PostgreSQL database and a Redis database index of its own, claimed like the suite's
(`tests/support/databases.py`; both emptied or dropped at the end); the production
stack as deployed: gunicorn (`gunicorn.conf.py`, 2 workers, `APP_ENV=production`)
behind nginx (`deploy/nginx.conf` with loopback ports and a
certificate made here, rendered the way the deployment tests do); SDK tokens minted
through the public endpoint, two applications for one user; then headless Locust
over HTTPS for `LOADTEST_SECONDS` (default 170: the first burst, then two full minute
windows per subject). Exits 1 unless every check in `loadtests/checks.py` holds.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests
from flask_migrate import upgrade

from app import create_app
from app.api_keys import services as api_keys
from app.applications import services as applications
from app.core.auth import Kind, Principal
from app.core.client import ClientInfo
from app.developers import services as developers
from app.extensions import db
from app.users import services as users
from loadtests import checks
from tests.support.databases import claimed_redis_database, temporary_database
from tests.support.environment import process_environment
from tests.support.nginx import nginx_binary, render_nginx_conf, self_signed_certificate
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "loadtests" / "out"
VENV_BIN = Path(sys.executable).parent
SECONDS = int(os.environ.get("LOADTEST_SECONDS", "170"))
API_KEYS = 3
SDK_USERS = 3
LIMITS = {"api_key": 1000, "sdk": 100}
FLOORS = {"api_key": 990, "sdk": 99}
# Offered load per subject: each key at 45 req/s (2.7x 1000/min); each SDK token at
# 4.5 req/s (2.7x 100/min), so the user with two tokens gets 5.4x. A subject that
# receives less than 2x its limit fails the run (TLS and 2 cores cost some of it).
USERS_PER_KEY, API_KEY_RATE_PER_USER = 6, 7.5
USERS_PER_TOKEN, SDK_RATE_PER_USER = 2, 2.25


def seed(config: dict) -> dict:
    """A developer, API keys, end users and two applications, straight into the database."""
    app = create_app({**config, "APP_ENV": "testing"})
    with app.app_context():
        upgrade()
        developer = developers.create_developer(
            "load@example.com", secrets.token_urlsafe(16), "Load", "Test"
        )
        creator = Principal(kind=Kind.DEVELOPER, subject_id=str(developer.id))
        client = ClientInfo(ip="127.0.0.1", user_agent="loadtests")
        keys = []
        for index in range(API_KEYS):
            api_key, secret = api_keys.create_key(f"load-{index}", "live", None, creator, client)
            keys.append({"id": api_key.id, "key": secret})
        user_ids = [
            str(users.create_user({"external_user_id": f"load-user-{index}"}).id)
            for index in range(SDK_USERS)
        ]
        apps = [
            applications.create_application(name, creator, client)
            for name in ("Load phone app", "Load watch app")
        ]
        db.session.remove()
        db.engine.dispose()
    app.extensions["owa_store"].client.close()
    return {
        "api_keys": keys,
        "user_ids": user_ids,
        "applications": [
            {"app_id": application.app_id, "app_secret": app_secret}
            for application, app_secret in apps
        ],
        "limits": LIMITS,
        "users_per_key": USERS_PER_KEY,
        "api_key_rate_per_user": API_KEY_RATE_PER_USER,
        "users_per_token": USERS_PER_TOKEN,
        "sdk_rate_per_user": SDK_RATE_PER_USER,
    }


def mint_sdk_tokens(base: str, certificate: Path, seeded: dict) -> list[dict]:
    """Through the public mint endpoint: the first user gets a token from each of the two
    applications, the others one each."""
    tokens = []
    for index, user_id in enumerate(seeded["user_ids"]):
        for application in seeded["applications"][: 2 if index == 0 else 1]:
            response = requests.post(
                f"{base}/api/v1/users/{user_id}/token",
                json=application,
                verify=certificate,
                timeout=30,
            )
            if response.status_code != 200:
                raise SystemExit(f"minting an SDK token failed: {response.status_code}")
            tokens.append(
                {
                    "user_id": user_id,
                    "app_id": application["app_id"],
                    "token": response.json()["access_token"],
                }
            )
    return tokens


def wait_for(url: str, processes: list[subprocess.Popen], logs: Path, certificate: Path) -> None:
    """Until `url` answers 200 (nginx answers 503 until gunicorn serves)."""
    deadline = time.monotonic() + 60
    while True:
        if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer; see the logs in {logs}")
        try:
            if requests.get(url, timeout=2, verify=certificate).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)


@contextmanager
def production_stack(config: dict, directory: Path):
    """nginx (HTTPS) in front of gunicorn; yields (https base URL, certificate)."""
    directory.mkdir(exist_ok=True)
    certificate, key = self_signed_certificate(directory)
    http_port, https_port, gunicorn_port = free_port(), free_port(), free_port()
    conf = directory / "nginx.conf"
    conf.write_text(
        render_nginx_conf(directory, http_port, https_port, gunicorn_port, certificate, key)
    )
    environment = process_environment(
        {
            **config,
            "GUNICORN_BIND": f"127.0.0.1:{gunicorn_port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "4",
        }
    )
    gunicorn_log = directory / "gunicorn.log"
    with gunicorn_log.open("w") as gunicorn_out, (directory / "nginx.out").open("w") as nginx_out:
        gunicorn = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
            cwd=REPO,
            env=environment,
            stdout=gunicorn_out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        nginx = subprocess.Popen(
            [nginx_binary(), "-p", directory, "-c", conf, "-e", directory / "error.log"],
            stdout=nginx_out,
            stderr=subprocess.STDOUT,
        )
    https = f"https://127.0.0.1:{https_port}"
    try:
        wait_for(https + "/healthz", [gunicorn, nginx], directory, certificate)
        yield https, certificate
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)


def drive(base: str, certificate: Path, seed_file: Path, records: Path) -> float:
    """Headless Locust for SECONDS; returns when traffic stopped (epoch seconds)."""
    users = API_KEYS * USERS_PER_KEY + (SDK_USERS + 1) * USERS_PER_TOKEN
    subprocess.run(
        [
            str(VENV_BIN / "locust"),
            *("-f", str(REPO / "loadtests" / "locustfile.py"), "--headless"),
            *("--host", base, "--users", str(users), "--spawn-rate", str(users)),
            *("--run-time", f"{SECONDS}s", "--stop-timeout", "5", "--only-summary"),
            *("--csv", str(OUT / "locust"), "--exit-code-on-error", "0"),
        ],
        env={
            **os.environ,
            "LOADTEST_SEED": str(seed_file),
            "LOADTEST_RECORDS": str(records),
            "LOADTEST_CA": str(certificate),
        },
        check=True,
        timeout=SECONDS + 120,
    )
    return time.time()


def labels(seeded: dict) -> dict[str, str]:
    names = {key["id"]: f"{key['id']}" for key in seeded["api_keys"]}
    for token in seeded["sdk_tokens"]:
        apps = sorted(
            {t["app_id"] for t in seeded["sdk_tokens"] if t["user_id"] == token["user_id"]}
        )
        names[token["user_id"]] = f"user {token['user_id'][:8]}… ({len(apps)} tokens/apps)"
    return names


def main() -> int:
    OUT.mkdir(exist_ok=True)
    records = OUT / "requests.jsonl"
    records.unlink(missing_ok=True)
    with (
        temporary_database("owa_load") as database_url,
        claimed_redis_database("loadtest") as redis_url,
    ):
        config = {
            "APP_ENV": "production",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": "",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "TOKEN_PEPPER": secrets.token_urlsafe(48),
            "ADMIN_EMAIL": "",
            "ADMIN_PASSWORD": "",
            # Production requires it for invitation and reset links, which this run sends none of.
            "PUBLIC_BASE_URL": "https://127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        seeded = seed(config)
        seed_file = OUT / "seed.json"
        with production_stack(config, OUT / "stack") as (base, certificate):
            seeded["sdk_tokens"] = mint_sdk_tokens(base, certificate, seeded)
            seed_file.write_text(json.dumps(seeded))
            try:
                stopped = drive(base, certificate, seed_file, records)
            finally:
                seed_file.unlink()
    with records.open() as lines:
        subjects = checks.collect(map(json.loads, lines), LIMITS, FLOORS)
    verdicts = [checks.judge(subject, stopped, minimum_windows=2) for subject in subjects]
    expected = API_KEYS + SDK_USERS
    print(
        f"\nRate limits under load: {SECONDS} s through nginx (HTTPS) to gunicorn (2 workers), "
        f"{expected} subjects\n"
    )
    print(checks.table(verdicts, labels(seeded)))
    failures = [(v.subject, f) for v in verdicts for f in v.failures]
    if len(verdicts) != expected:
        failures.append((None, f"{len(verdicts)} subjects saw traffic, expected {expected}"))
    for subject, failure in failures:
        print(f"FAIL {subject.kind + ' ' + subject.subject if subject else ''}: {failure}")
    print("\nPASS" if not failures else f"\n{len(failures)} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
