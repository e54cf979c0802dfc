"""A PostgreSQL cluster of the test's own (initdb + pg_ctl as the postgres user, on a
free port, in a temporary directory), so a test may stop and restart it, or read what
the server logged."""

import glob
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.support.ports import free_port

SERVER_USER = "postgres"
# No durability needed: the cluster lives for one test.
LOGGED_STATEMENT = re.compile(r"LOG:\s+(?:statement|execute [^:]*): (.*)")
"""A statement as `log_statement=all` logs it (simple or extended protocol)."""
FAST_UNSAFE = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise AssertionError(f"{name} not found under /usr/lib/postgresql/*/bin")
    return found[-1]


class PostgresCluster:
    def __init__(self, **settings: str) -> None:
        """`settings`: server settings (`log_statement="all"`)."""
        self.settings = settings
        self.port = free_port()
        # Not under pytest's tmp_path: the postgres user cannot enter root's 0700 dirs.
        self.directory = Path(tempfile.mkdtemp(prefix="owa-faults-pg-"))
        shutil.chown(self.directory, SERVER_USER, SERVER_USER)
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def _as_server_user(self, *command: str) -> None:
        subprocess.run(
            ["runuser", "-u", SERVER_USER, "--", *command],
            check=True,
            capture_output=True,
            cwd=self.directory,
        )

    def init(self) -> None:
        self._as_server_user(
            _binary("initdb"), "-D", str(self.data), "-U", SERVER_USER,
            "--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} {FAST_UNSAFE}"
            + "".join(f" -c {name}={value}" for name, value in self.settings.items())
        )
        self._as_server_user(
            _binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown: open connections are terminated, as in a real restart."""
        self._as_server_user(_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_server_user(
                _binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
            )
        shutil.rmtree(self.directory, ignore_errors=True)

    def statements_during(self, database_url: str, action: Callable[[], object]) -> list[str]:
        """The statements the server logged while `action` ran (needs
        `log_statement="all"`), between two markers of our own."""
        marker = f"owa-marker-{uuid.uuid4()}"
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(f"SELECT 'begin {marker}'")
            action()
            connection.execute(f"SELECT 'end {marker}'")
        # A statement's further lines are logged indented with a tab: join them.
        lines = self.log.read_text().replace("\n\t", " ").splitlines()
        start = next(i for i, line in enumerate(lines) if f"begin {marker}" in line)
        end = next(i for i, line in enumerate(lines) if f"end {marker}" in line)
        logged = (LOGGED_STATEMENT.search(line) for line in lines[start + 1 : end])
        return [match.group(1) for match in logged if match]
