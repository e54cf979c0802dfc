"""The app with authentication and the caller limit switched off, for bench/throughput.py.

`gunicorn bench.auth_off_app:app` serves the same handlers with the caller injected
(the API key named by `BENCH_KEY_ID`, whoever calls): no credential check, no Redis
call, no rate-limit headers. Bench code only: nothing in app/ can switch auth off.
"""

import os

from app import create_app
from app.core.auth import Kind, Principal
from bench.hot_path import without_admission

app = without_admission(
    create_app(),
    {os.environ["BENCH_AUTHORIZATION"]: Principal(Kind.API_KEY, os.environ["BENCH_KEY_ID"])},
)
