"""Tokens and a private Redis server for the rate-limit tests."""

import shutil
import socket
import subprocess
import time
import uuid

import jwt
import redis

from tests.conftest import TEST_SECRET_KEY

RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
)


def forge_token(kind: str, subject_id: str, app_id: str | None = None) -> str:
    """A valid access JWT as the app would issue it: its own session and jti."""
    now = int(time.time())
    claims = {
        "type": kind,
        "sub": subject_id,
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
    }
    if app_id:
        claims["app_id"] = app_id
    return jwt.encode(claims, TEST_SECRET_KEY, algorithm="HS256")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of our own, so command counts are ours alone and we may stop it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            client = redis.Redis.from_url(self.url)
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
            finally:
                client.close()
        raise AssertionError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def commands_sent_during(self, action) -> tuple[list[str], list[str]]:
        """(commands clients sent, commands Lua scripts ran) while `action` runs, read
        from MONITOR, which tags each command with its client or `lua`."""
        sentinel = f"owa-end-{uuid.uuid4()}"
        watcher = redis.Redis.from_url(self.url)
        marker = redis.Redis.from_url(self.url)
        sent, scripted = [], []
        try:
            with watcher.monitor() as monitor:
                action()
                marker.echo(sentinel)
                while True:
                    entry = monitor.next_command()
                    if sentinel in entry["command"]:
                        break
                    name = entry["command"].split(" ", 1)[0].lower()
                    (scripted if entry["client_type"] == "lua" else sent).append(name)
        finally:
            watcher.close()
            marker.close()
        return sent, scripted
