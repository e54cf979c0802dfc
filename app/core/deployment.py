"""Running behind nginx: which proxy headers to believe, and the production profile.

`TRUSTED_PROXY_HOPS` tells ProxyFix how many proxies set `X-Forwarded-*`; it takes the
client address and scheme from exactly that many entries from the right, so whatever a
client writes into those headers itself is never believed; the address it leaves is then
made canonical (`::ffff:192.0.2.1` is 192.0.2.1). With `APP_ENV=production`
the app refuses to start on weak secrets, refuses plain HTTP and sends HSTS.
In development without a `SECRET_KEY`, a random one is generated into `instance/`.
"""

import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, redirect, request
from flask.helpers import get_debug_flag
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from app.config import APP_ENVIRONMENTS, DEVELOPMENT_PEPPER, DEVELOPMENT_SECRET
from app.core.client import parse_address
from app.core.errors import ApiError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

MIN_SECRET_LENGTH = 32
SAFE_METHODS = frozenset({"GET", "HEAD"})
WEAK_VALUES = {"SECRET_KEY": DEVELOPMENT_SECRET, "TOKEN_PEPPER": DEVELOPMENT_PEPPER}
DEVELOPMENT_SECRET_FILE = "development-secret-key"


class InsecureConfigurationError(RuntimeError):
    """The production profile was asked to start with settings that are not safe."""


def init_deployment(app: Flask) -> None:
    """Wrap the app in ProxyFix and, in production, enforce HTTPS and strong secrets."""
    environment = app.config["APP_ENV"]
    if environment not in APP_ENVIRONMENTS:
        raise InsecureConfigurationError(
            f"APP_ENV={environment!r} is not one of {', '.join(APP_ENVIRONMENTS)}."
        )
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops < 0:
        raise InsecureConfigurationError("TRUSTED_PROXY_HOPS must be 0 or more.")
    # Flask's documented way to add WSGI middleware, which the type checker sees as
    # replacing a method. ProxyFix, outermost, sets REMOTE_ADDR before it is canonical.
    app.wsgi_app = CanonicalClientAddress(app.wsgi_app)  # type: ignore[method-assign]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    if environment == "development" and app.config["SECRET_KEY"] == DEVELOPMENT_SECRET:
        app.config["SECRET_KEY"] = app.config["JWT_SECRET_KEY"] = development_secret(
            Path(app.instance_path)
        )
    if environment == "production":
        _check_production_settings(app)
        app.before_request(_require_https)
        app.after_request(_add_strict_transport_security)


class CanonicalClientAddress:
    """WSGI middleware: an IPv6 `REMOTE_ADDR` in its canonical form, and an IPv4 client
    reached through a dual-stack listener (`::ffff:192.0.2.1`) as the IPv4 address it
    is. Audit entries, a key's last-use IP, usage, allowlists and rate limits then see
    one address per client, however the listener or proxy wrote it."""

    def __init__(self, wsgi_app: "WSGIApplication") -> None:
        self.wsgi_app = wsgi_app

    def __call__(
        self, environ: "WSGIEnvironment", start_response: "StartResponse"
    ) -> Iterable[bytes]:
        address = environ.get("REMOTE_ADDR")
        if address and ":" in address:
            parsed = parse_address(address)
            if parsed is not None:
                environ["REMOTE_ADDR"] = str(parsed)
        return self.wsgi_app(environ, start_response)


def development_secret(directory: Path) -> str:
    """The secret in `directory`, written on first use: `make run` needs no settings,
    yet HS256 wants a key of at least 32 bytes, and every worker and restart must share
    it for issued tokens to stay valid. Of two processes starting at once, exactly one
    writes it (a hard link cannot replace a file); the other reads that one."""
    path = directory / DEVELOPMENT_SECRET_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, draft = tempfile.mkstemp(dir=directory, prefix=f".{DEVELOPMENT_SECRET_FILE}.")
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def _check_production_settings(app: Flask) -> None:
    problems = []
    for name, development_value in WEAK_VALUES.items():
        value = app.config[name]
        if value == development_value:
            problems.append(f"{name} is the development default.")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters.")
    if app.config["SECRET_KEY"] == app.config["TOKEN_PEPPER"]:
        problems.append("SECRET_KEY and TOKEN_PEPPER are the same value.")
    if not app.config["REDIS_URL"]:
        problems.append(
            "REDIS_URL is empty; logouts, revocations and rate limits would not reach every worker."
        )
    base_url = app.config["PUBLIC_BASE_URL"]
    if not base_url:
        problems.append("PUBLIC_BASE_URL is empty; invitation and reset links need it.")
    elif not base_url.startswith("https://"):
        problems.append("PUBLIC_BASE_URL must be an https:// URL.")
    if get_debug_flag():
        problems.append("FLASK_DEBUG is on; the debugger would run code sent to it.")
    if problems:
        raise InsecureConfigurationError(
            "Refusing to start with APP_ENV=production: "
            + " ".join(problems)
            + " Generate secrets with "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    app.debug = False


def _require_https() -> BaseResponse | None:
    if request.scheme == "https":
        return None
    if request.method in SAFE_METHODS:
        return redirect("https://" + request.url.partition("://")[2], code=301)
    raise ApiError(403, "HTTPS required")


def _add_strict_transport_security(response: Response) -> Response:
    # Over plain HTTP the header means nothing to a browser (RFC 6797 §7.2): HTTPS only.
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = (
            f"max-age={current_app.config['HSTS_MAX_AGE']}"
        )
    return response
