"""Server processes for integration tests, the load test and the benchmarks: anything
serving HTTP until /healthz answers, gunicorn with several workers on a free port, and a
private redis-server whose commands a test may count and which it may stop."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import redis
import requests

from tests.support.environment import REPO
from tests.support.ports import free_port

VENV_BIN = Path(sys.executable).parent


def wait_for(
    condition: Callable[[], object],
    seconds: float = 60,
    interval: float = 0.1,
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {seconds}s")


def wait_until_serving(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int, **popen_options):
    """Run a server process in its own session; yield its base URL once /healthz answers,
    and stop it (and its children) afterwards."""
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True, **popen_options)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base + "/healthz", process)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)


@contextmanager
def gunicorn(config: dict[str, str], log_dir: Path, workers: int = 2, **popen_options):
    """Serve `wsgi:app` with `workers` processes; yields (base_url, access_log_path).

    The access log carries each worker's pid, so a test can prove several served it."""
    port = free_port()
    access_log = log_dir / "access.log"
    env = {**os.environ, **{name: str(value) for name, value in config.items()}}
    command = [
        str(VENV_BIN / "gunicorn"),
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "--access-logfile", str(access_log),
        "--access-logformat", "%(p)s %(s)s %(m)s %(U)s",
        "--error-logfile", str(log_dir / "error.log"),
        "wsgi:app",
    ]  # fmt: skip
    with serving(command, env, port, **popen_options) as base:
        yield base, access_log


def worker_pids(access_log: Path) -> set[str]:
    return {line.split()[0] for line in access_log.read_text().splitlines() if line.strip()}


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


def windows_written(scripted: list[str]) -> int:
    """How many rate-limit windows the script commands `scripted` wrote: a window is
    written whole when its newest bucket opens (SET), else counted in place (two
    SETRANGE: the total and the bucket's count)."""
    in_place, rest = divmod(scripted.count("setrange"), 2)
    assert not rest, scripted
    return scripted.count("set") + in_place


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
        wait_for_redis(self.url)

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


class RedisClusterServers:
    """A Redis Cluster of our own: three masters on free loopback ports, no replicas,
    in a temporary directory; `stop` ends exactly those three processes."""

    MASTERS = 3
    BUS_PORT_OFFSET = 10000

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = [self._free_port_with_free_bus_port() for _ in range(self.MASTERS)]
        self.processes: list[subprocess.Popen] = []

    def _free_port_with_free_bus_port(self) -> int:
        """Each node also listens on its port + 10000 (the cluster bus), below 65536."""
        while True:
            port = free_port()
            if port + self.BUS_PORT_OFFSET > 65535:
                continue
            with socket.socket() as bus:
                try:
                    bus.bind(("127.0.0.1", port + self.BUS_PORT_OFFSET))
                except OSError:
                    continue
            return port

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def start(self) -> None:
        for port in self.ports:
            self.processes.append(
                subprocess.Popen(
                    [
                        "redis-server",
                        *("--port", str(port), "--bind", "127.0.0.1"),
                        *("--cluster-enabled", "yes", "--cluster-node-timeout", "5000"),
                        *("--cluster-config-file", f"nodes-{port}.conf"),
                        *("--dir", str(self.directory), "--save", "", "--appendonly", "no"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in self.ports:
            self._wait_for(port, "PONG", "ping")
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{port}" for port in self.ports),
                *("--cluster-replicas", "0", "--cluster-yes"),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        for port in self.ports:
            self._wait_for(port, "cluster_state:ok", "cluster", "info")

    def _wait_for(self, port: int, answer: str, *command: str) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            reply = subprocess.run(
                ["redis-cli", "-p", str(port), *command], capture_output=True, text=True
            )
            if answer in reply.stdout:
                return
            time.sleep(0.1)
        raise AssertionError(f"redis-server on port {port} never answered {answer}")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=20)
        self.processes = []
