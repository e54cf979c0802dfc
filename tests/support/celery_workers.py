"""Celery worker processes for tests: `celery -A workers.celery_app worker` in its own
process group, its log read as it runs."""

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from tests.support.environment import REPO

# Short enough for tests to wait on; the lease still exceeds two send timeouts.
FAST_DELIVERY = {
    "ALERT_SEND_TIMEOUT_SECONDS": "2",
    "ALERT_DELIVERY_LEASE_SECONDS": "5",
    "ALERT_RETRY_BASE_SECONDS": "1",
    "ALERT_SWEEP_SECONDS": "1",
}


class Worker:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def succeeded(self, task_name: str) -> int:
        return sum(f"Task {task_name}[" in line and "succeeded" in line for line in self.lines)

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.reader.join(10)
        self.process.stdout.close()


def launch_worker(env: dict[str, str], beat_schedule: Path | None = None) -> Worker:
    """`celery -A workers.celery_app worker` (prefork, one child) in its own process
    group, with an embedded beat when `beat_schedule` is given; returns once ready."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "worker",
        "--loglevel=INFO",
        "--pool=prefork",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--hostname=owa-test-{uuid.uuid4().hex[:8]}@%h",
    ]
    if beat_schedule is not None:
        command += ["--beat", f"--schedule={beat_schedule}"]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    worker = Worker(process)
    if not worker.ready.wait(90):
        worker.stop()
        raise AssertionError(f"worker did not become ready:\n{worker.log}")
    return worker
