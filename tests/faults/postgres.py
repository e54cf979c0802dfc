"""A PostgreSQL cluster of the test's own (initdb + pg_ctl as the postgres user, on a
free port, in a temporary directory), so a test may stop and restart it."""

import glob
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.servers import free_port

SERVER_USER = "postgres"
# No durability needed: the cluster lives for one test.
FAST_UNSAFE = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise AssertionError(f"{name} not found under /usr/lib/postgresql/*/bin")
    return found[-1]


class PostgresCluster:
    def __init__(self) -> None:
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
