"""A gunicorn worker SIGKILLed under mixed load: its in-flight requests lose their
connection (counted apart: no HTTP answer exists to judge), every answer is still
well-formed, the master starts a new worker, and every write answered 2xx is stored."""

import os
import signal
import time

import pytest

from tests.faults.outage_load import MixedLoad
from tests.faults.test_postgres import stored_external_ids
from tests.servers import worker_pids
from tests.workers.servers import wait_for

pytestmark = pytest.mark.slow


def test_a_worker_sigkilled_under_load_costs_no_5xx_and_is_replaced(seeded, served):
    with MixedLoad(served.base, seeded.api_key, seeded.user_id) as load:
        wait_for(
            lambda: len(worker_pids(served.access_log)) == 2,
            seconds=20,
            what="both workers serving",
        )
        before = worker_pids(served.access_log)
        load.phase = "killed"
        os.kill(int(sorted(before)[0].strip("<>")), signal.SIGKILL)
        wait_for(
            lambda: worker_pids(served.access_log) - before,
            seconds=20,
            what="a new worker serving",
        )
        load.phase = "after"
        time.sleep(2)

    tally = load.tally
    print(f"worker SIGKILL: {dict(tally.statuses)}, no answer: {dict(tally.connection_errors)}")
    assert tally.problems == []
    assert tally.total(500, 502, 503, 504) == 0
    assert tally.count("after", 200) > 0
    assert tally.connection_errors["after"] == 0
    missing = tally.written - stored_external_ids(seeded.database_url)
    assert tally.written
    assert missing == set()
