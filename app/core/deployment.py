"""Running behind nginx: which proxy headers to believe, and the production profile.

`TRUSTED_PROXY_HOPS` tells ProxyFix how many proxies set `X-Forwarded-*`; it takes the
client address and scheme from exactly that many entries from the right, so whatever a
client writes into those headers itself is never believed. With `APP_ENV=production`
the app refuses to start on weak secrets, refuses plain HTTP and sends HSTS.
"""

from flask import Flask, current_app, redirect, request
from flask.helpers import get_debug_flag
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import APP_ENVIRONMENTS, DEVELOPMENT_PEPPER, DEVELOPMENT_SECRET
from app.core.errors import ApiError

MIN_SECRET_LENGTH = 32
SAFE_METHODS = frozenset({"GET", "HEAD"})
WEAK_VALUES = {"SECRET_KEY": DEVELOPMENT_SECRET, "TOKEN_PEPPER": DEVELOPMENT_PEPPER}


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
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    if environment == "production":
        _check_production_settings(app)
        app.before_request(_require_https)
        app.after_request(_add_strict_transport_security)


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


def _require_https():
    if request.scheme == "https":
        return None
    if request.method in SAFE_METHODS:
        return redirect("https://" + request.url.partition("://")[2], code=301)
    raise ApiError(403, "HTTPS required")


def _add_strict_transport_security(response):
    # Over plain HTTP the header means nothing to a browser (RFC 6797 §7.2): HTTPS only.
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = (
            f"max-age={current_app.config['HSTS_MAX_AGE']}"
        )
    return response
