"""deploy/nginx.conf run on loopback by an unprivileged test: ports, paths and a
certificate of the run's own."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.environment import REPO

NGINX_CONF = REPO / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        pytest.fail(
            "nginx is not installed: run `bash .ci/services` as root (it installs nginx "
            "from Debian's packages) or `apt-get install nginx`."
        )
    return found


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.fail("openssl is not installed: run `bash .ci/services` as root.")
    certificate, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(certificate), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return certificate, key


def render_nginx_conf(
    prefix: Path, http_port: int, https_port: int, upstream_port: int, cert: Path, key: Path
) -> str:
    """deploy/nginx.conf with loopback ports and every path inside `prefix`.

    Each rewritten line must occur exactly once, so a change to deploy/nginx.conf that
    this test no longer understands fails here instead of testing something else."""
    text = NGINX_CONF.read_text()
    rewrites = {
        "pid /var/run/nginx.pid;": f"pid {prefix}/nginx.pid;",
        "error_log /var/log/nginx/error.log warn;": f"error_log {prefix}/error.log warn;",
        "access_log /var/log/nginx/access.log api;": f"access_log {prefix}/access.log api;",
        "server api:8000;": f"server 127.0.0.1:{upstream_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "return 301 https://$host$request_uri;": (
            f"return 301 https://$host:{https_port}$request_uri;"
        ),
        "/etc/nginx/certs/fullchain.pem": str(cert),
        "/etc/nginx/certs/privkey.pem": str(key),
        "http {": "http {\n"
        + "".join(
            f"    {kind}_temp_path {prefix}/{kind}_temp;\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
    }
    for original, replacement in rewrites.items():
        assert text.count(original) == 1, f"{original!r} is no longer once in {NGINX_CONF}"
        text = text.replace(original, replacement)
    # As root, nginx would hand requests to `nobody`, who cannot enter pytest's tmp dirs.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"daemon off;\n{user}{text}"
