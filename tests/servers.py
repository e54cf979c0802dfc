"""Real servers for integration tests: gunicorn with several workers on a free port."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_PEPPER, TEST_SECRET_KEY

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def server_config(database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """Environment for a test server on the test database and Redis."""
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "TOKEN_PEPPER": TEST_PEPPER,
        **overrides,
    }


def developer_login(base: str, password: str = ADMIN_PASSWORD) -> dict:
    """Log the `admin` fixture's developer in over HTTP; the token pair."""
    response = requests.post(
        base + "/api/v1/auth/login",
        data={"username": ADMIN_EMAIL, "password": password},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def developer_token(base: str) -> str:
    return developer_login(base)["access_token"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
def gunicorn(config: dict[str, str], log_dir: Path, workers: int = 2):
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
    with serving(command, env, port) as base:
        yield base, access_log


def worker_pids(access_log: Path) -> set[str]:
    return {line.split()[0] for line in access_log.read_text().splitlines() if line.strip()}


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
