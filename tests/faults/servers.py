"""Processes a fault test owns and may kill: never the shared PostgreSQL or Redis."""

import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.servers import free_port


def wait_for_redis(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        client = redis.Redis.from_url(url)
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            time.sleep(0.05)
        finally:
            client.close()
    raise AssertionError(f"redis-server at {url} did not answer within {seconds}s")


class RedisServer:
    """A redis-server on a free port, without persistence unless a test `save`s: `kill`
    loses everything not saved, `start` again comes back on the same port with whatever
    `dump.rdb` holds (nothing, unless saved)."""

    def __init__(self, directory: Path, *options: str) -> None:
        self.directory = directory
        self.options = options
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            *self.options,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_redis(self.url)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def save(self) -> None:
        """Snapshot the data, so the next `start` after a `kill` comes back with it."""
        client = self.client()
        try:
            client.save()
        finally:
            client.close()

    def forget_saved_data(self) -> None:
        (self.directory / "dump.rdb").unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL: no shutdown save, clients see connection errors at once."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)
            self.process = None

    def restart_empty(self) -> None:
        self.kill()
        self.forget_saved_data()
        self.start()
