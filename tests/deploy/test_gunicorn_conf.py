"""gunicorn.conf.py takes its numbers from the settings table and logs no secrets."""

import runpy
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# gunicorn's atoms for the request line, the query string, the Referer and the user.
LEAKY_ATOMS = ("%(r)s", "%(q)s", "%(f)s", "%(u)s")


def load_gunicorn_conf() -> dict:
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_defaults_come_from_the_settings_table():
    conf = load_gunicorn_conf()

    assert (conf["bind"], conf["workers"], conf["threads"]) == ("127.0.0.1:8000", 2, 4)
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (30, 30, 5)
    assert conf["worker_class"] == "gthread"


def test_the_environment_sets_workers_threads_and_timeouts(monkeypatch):
    for name, value in {
        "GUNICORN_BIND": "0.0.0.0:9000",
        "GUNICORN_WORKERS": "5",
        "GUNICORN_THREADS": "8",
        "GUNICORN_TIMEOUT": "60",
        "GUNICORN_GRACEFUL_TIMEOUT": "20",
        "GUNICORN_KEEPALIVE": "2",
    }.items():
        monkeypatch.setenv(name, value)

    conf = load_gunicorn_conf()

    assert (conf["bind"], conf["workers"], conf["threads"]) == ("0.0.0.0:9000", 5, 8)
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (60, 20, 2)


@pytest.mark.parametrize("atom", LEAKY_ATOMS)
def test_the_access_log_has_no_query_string_referer_or_credentials(atom):
    conf = load_gunicorn_conf()

    assert atom not in conf["access_log_format"]
    assert "%(U)s" in conf["access_log_format"]


def test_the_access_log_names_no_credential_header():
    log_format = load_gunicorn_conf()["access_log_format"].lower()

    assert "authorization" not in log_format
    assert "cookie" not in log_format
    assert "api-key" not in log_format


def test_gunicorn_trusts_no_forwarded_headers_itself():
    assert load_gunicorn_conf()["forwarded_allow_ips"] == ""
