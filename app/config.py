"""Settings, read from the environment when `create_app` runs (never at import).

`SETTINGS` is the single table of every setting: the README's environment table and
the docker-compose coherence test are both checked against it.
"""

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from limits import parse

DEVELOPMENT_SECRET = "dev-only-secret-change-me"
DEVELOPMENT_PEPPER = "dev-only-pepper-change-me"
APP_ENVIRONMENTS = ("development", "testing", "production")
SWAGGER_UI_ASSETS_URL = "/docs/swagger-ui/"
JWT_ALGORITHMS = ("HS256", "ES256", "EdDSA")
SECRET_SCANNING_ACTIONS = ("revoke", "alert")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
# Literal hosts only: flask-cors would treat `[`, `*`, `?`… as a regular expression.
ORIGIN_PATTERN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?")


def parse_origins(raw: str) -> tuple[str, ...]:
    """Comma-separated exact origins (`scheme://host[:port]`); `*`, paths and blanks are
    refused so a typo cannot open the API to every site."""
    origins = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    for origin in origins:
        if not ORIGIN_PATTERN.fullmatch(origin):
            raise ValueError(
                f"{origin!r} is not an origin; use scheme://host[:port], e.g. https://app.example.com"
            )
    return origins


def parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{raw!r} is not a boolean; use true or false")


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    cast: Callable[[str], Any]
    doc: str
    production_default: Any = None
    """Replaces `default` when `APP_ENV=production` and the setting is not given."""


SETTINGS: tuple[Setting, ...] = (
    Setting("APP_ENV", "development", str, "`development`, `testing` or `production`."),
    Setting(
        "SECRET_KEY",
        DEVELOPMENT_SECRET,
        str,
        "Signs access JWTs (HS256). Set a long random value outside development; in "
        "development, when unset, a random one is generated into "
        "`instance/development-secret-key`.",
    ),
    Setting(
        "JWT_ALGORITHM",
        "HS256",
        str,
        "`HS256` (signed with `SECRET_KEY`), `ES256` (P-256) or `EdDSA` (Ed25519). The "
        "asymmetric ones sign with `JWT_PRIVATE_KEYS_FILE` and publish the public keys at "
        "`/.well-known/jwks.json`. Switching invalidates access tokens already issued "
        "(clients refresh).",
    ),
    Setting(
        "JWT_PRIVATE_KEYS_FILE",
        "",
        str,
        "PEM file of the signing keys (ES256/EdDSA), shared by every worker and host; "
        "re-read whenever it changes. Empty: `instance/jwt-signing-keys.pem` in "
        "development (`make run` creates it), required otherwise.",
    ),
    Setting(
        "JWKS_CACHE_SECONDS",
        300,
        int,
        "`Cache-Control: max-age` of `/.well-known/jwks.json`. Verifiers must not cache "
        "the key set longer than `JWT_KEY_ACTIVATION_DELAY_SECONDS`.",
    ),
    Setting(
        "JWT_KEY_ACTIVATION_DELAY_SECONDS",
        900,
        int,
        "`flask rotate-signing-key` publishes the new key at once and signs with it only "
        "this many seconds later. Must exceed `JWKS_CACHE_SECONDS`.",
    ),
    Setting(
        "TOKEN_PEPPER",
        DEVELOPMENT_PEPPER,
        str,
        "HMAC-SHA256 key for stored digests of API keys, app secrets and refresh "
        "tokens. Separate from `SECRET_KEY`; changing it invalidates every stored secret.",
    ),
    Setting(
        "DATABASE_URL",
        "sqlite:///open-wearables.sqlite3",
        str,
        "SQLAlchemy URL. `postgresql://…` uses psycopg 3. Relative SQLite paths "
        "live in `instance/` (the embedded default).",
    ),
    Setting(
        "REDIS_URL",
        "",
        str,
        "Redis for revocation flags, rate limits and shared state. "
        "`redis+cluster://host:port[,host:port…]` selects a Redis Cluster. "
        "Empty: in-process (one worker only).",
    ),
    Setting(
        "CELERY_BROKER_URL",
        "",
        str,
        "Celery broker. Empty: tasks run eagerly inside the request process.",
    ),
    Setting("ACCESS_TOKEN_EXPIRES_SECONDS", 3600, int, "Lifetime of a developer access token."),
    Setting("SDK_TOKEN_EXPIRES_SECONDS", 3600, int, "Lifetime of an SDK (end-user) access token."),
    Setting(
        "REFRESH_TOKEN_LIFETIME_DAYS",
        30,
        int,
        "Absolute lifetime of a refresh-token family, counted from the login or mint.",
    ),
    Setting(
        "REFRESH_TOKEN_REUSE_GRACE_SECONDS",
        0,
        int,
        "Grace for a lost refresh response: within this many seconds of a refresh, the "
        "used refresh token may be presented once more while the one issued for it is "
        "unused; that one is revoked and a new pair issued. 0: strict single use.",
    ),
    Setting(
        "MAX_CONTENT_LENGTH",
        4 * 1024 * 1024,
        int,
        "Largest accepted request body in bytes (413 above).",
    ),
    Setting(
        "MAX_WORKOUTS_PER_REQUEST",
        1000,
        int,
        "Most workouts one `POST …/events/workouts` may carry (422 above).",
    ),
    Setting(
        "MAX_TIMESERIES_POINTS_PER_REQUEST",
        10000,
        int,
        "Most samples one `POST …/timeseries` may carry (422 above).",
    ),
    Setting(
        "DATA_MAX_QUERY_DAYS",
        366,
        int,
        "Longest window a data query may span, in days (422 above).",
    ),
    Setting("ADMIN_EMAIL", "", str, "`make run` ensures a developer with this e-mail exists."),
    Setting(
        "ADMIN_PASSWORD",
        "",
        str,
        "Password for `ADMIN_EMAIL`. When either is empty `make run` generates and prints them.",
    ),
    Setting(
        "RATELIMIT_API_KEY",
        "1000 per minute",
        str,
        "Requests per API key, across all endpoints and workers (moving window).",
    ),
    Setting(
        "RATELIMIT_SDK_USER",
        "100 per minute",
        str,
        "Requests per end user with SDK tokens, shared by all their tokens and applications.",
    ),
    Setting("RATELIMIT_DEVELOPER", "1000 per minute", str, "Requests per developer token holder."),
    Setting(
        "RATELIMIT_PER_IP",
        "120 per minute",
        str,
        "Requests without valid credentials (login, refresh, SDK token minting, rejected "
        "credentials), per client IP.",
    ),
    Setting(
        "RATELIMIT_FAILED_LOGINS_PER_IP",
        "30 per 15 minutes",
        str,
        "Failed developer logins per client IP (IPv6: per /64); further logins from it get 429.",
    ),
    Setting(
        "RATELIMIT_FAILED_LOGINS_PER_EMAIL_AND_IP",
        "10 per 15 minutes",
        str,
        "Failed developer logins per e-mail from one client IP (IPv6: per /64); further "
        "logins for that e-mail from there get 429, elsewhere they still work.",
    ),
    Setting(
        "RATELIMIT_FAILED_LOGINS_PER_EMAIL",
        "100 per 15 minutes",
        str,
        "Ceiling of failed developer logins per e-mail from everywhere together; further "
        "logins for it get 429. Reaching it takes failures from 10 networks at the defaults.",
    ),
    Setting(
        "RATELIMIT_FAILED_PASSWORD_CHECKS_PER_DEVELOPER",
        "10 per 15 minutes",
        str,
        "Wrong current passwords per signed-in developer (change-password, "
        "confirm-password); they also count against `RATELIMIT_FAILED_LOGINS_PER_IP`.",
    ),
    Setting(
        "RATELIMIT_PASSWORD_RESETS_PER_EMAIL",
        "3 per hour",
        str,
        "`POST /api/v1/auth/forgot-password` requests per submitted e-mail, known or not.",
    ),
    Setting(
        "RATELIMIT_PASSWORD_RESETS_PER_IP",
        "10 per hour",
        str,
        "`POST /api/v1/auth/forgot-password` requests per client IP.",
    ),
    Setting(
        "RATELIMIT_FAILED_MINTS_PER_APP",
        "30 per 15 minutes",
        str,
        "Failed SDK token mints per `app_id`; further mints for it get 429.",
    ),
    Setting(
        "RATELIMIT_FAILED_MINTS_PER_IP",
        "30 per 15 minutes",
        str,
        "Failed SDK token mints per client IP; further mints from it get 429.",
    ),
    Setting(
        "LAST_USED_FLUSH_SECONDS",
        30,
        int,
        "How often recorded API-key uses are written to `last_used_at` (beat, or an "
        "in-process timer when no broker is set).",
    ),
    Setting(
        "USAGE_FLUSH_SECONDS",
        5.0,
        float,
        "How often each API process sends its in-memory usage counts to Redis (one "
        "pipeline, after a response is sent or from an idle timer); also the delay before "
        "a finished minute is rolled up.",
    ),
    Setting(
        "USAGE_ROLLUP_SECONDS",
        60,
        int,
        "How often `usage.roll_up` adds the finished minutes to the hourly and daily rows "
        "in the database and deletes rows older than `USAGE_RETENTION_DAYS`.",
    ),
    Setting(
        "USAGE_RETENTION_DAYS",
        90,
        int,
        "Hourly and daily usage rows older than this many days are deleted.",
    ),
    Setting(
        "PASSWORD_HASH_TIME_COST",
        3,
        int,
        "argon2id passes per password hash (OWASP: at least 2 with 19 MiB; 3 with 64 MiB).",
    ),
    Setting(
        "PASSWORD_HASH_MEMORY_KIB",
        65536,
        int,
        "argon2id memory per password hash, in KiB. Existing hashes are upgraded at login.",
    ),
    Setting("LOG_LEVEL", "INFO", str, "Python logging level."),
    Setting(
        "TRUSTED_PROXY_HOPS",
        0,
        int,
        "How many reverse proxies in front of the app set `X-Forwarded-For/Proto/Host/Port` "
        "(ProxyFix). 0 trusts none of these headers; `1` is the default when "
        "`APP_ENV=production` (nginx in front). Never more than the proxies you run.",
        production_default=1,
    ),
    Setting(
        "API_DOCS_ENABLED",
        True,
        parse_bool,
        "Serve `/api/v1/openapi.json` and the Swagger UI at `/docs`. Off by default "
        "when `APP_ENV=production`.",
        production_default=False,
    ),
    Setting(
        "CORS_ALLOWED_ORIGINS",
        (),
        parse_origins,
        "Comma-separated exact origins (`https://app.example.com`) of web apps that may "
        "call the SDK-token endpoints and `/api/v1/auth/refresh` from the browser (CORS, "
        "never with cookies). Empty: no cross-origin access.",
    ),
    Setting(
        "HSTS_MAX_AGE",
        31536000,
        int,
        "`max-age` of the `Strict-Transport-Security` header sent on HTTPS responses "
        "when `APP_ENV=production`.",
    ),
    Setting(
        "GUNICORN_BIND",
        "127.0.0.1:8000",
        str,
        "Address `make serve` (gunicorn.conf.py) listens on; `0.0.0.0:8000` in a container.",
    ),
    Setting(
        "GUNICORN_WORKERS",
        2,
        int,
        "gunicorn worker processes (gunicorn.conf.py); about 2 x CPU cores + 1.",
    ),
    Setting("GUNICORN_THREADS", 4, int, "Threads per gunicorn worker (gthread worker class)."),
    Setting(
        "GUNICORN_TIMEOUT",
        30,
        int,
        "Seconds a request may run before gunicorn restarts its worker; nginx's proxy "
        "read timeout (35 s) is set just above it.",
    ),
    Setting(
        "GUNICORN_GRACEFUL_TIMEOUT",
        30,
        int,
        "Seconds workers get to finish their requests on restart or shutdown.",
    ),
    Setting(
        "GUNICORN_KEEPALIVE",
        5,
        int,
        "Seconds gunicorn keeps an idle keep-alive connection open.",
    ),
    Setting(
        "SMTP_HOST",
        "",
        str,
        "SMTP server for alert, reminder and account mail. Empty: alert mail is logged and "
        "account mail printed to standard output (production refuses account mail without it).",
    ),
    Setting("SMTP_PORT", 587, int, "SMTP server port."),
    Setting("SMTP_USER", "", str, "SMTP login. Empty: no AUTH."),
    Setting("SMTP_PASSWORD", "", str, "SMTP password for `SMTP_USER`."),
    Setting(
        "SMTP_FROM", "open-wearables@localhost", str, "Sender address of alert and account mail."
    ),
    Setting(
        "SMTP_STARTTLS",
        False,
        parse_bool,
        "`true`: upgrade the SMTP connection with STARTTLS (certificate verified) before AUTH.",
    ),
    Setting(
        "ALERT_EMAIL_TO",
        "",
        str,
        "Comma-separated addresses (e.g. a security team) copied on every alert, besides "
        "the credential's owner.",
    ),
    Setting(
        "ALERT_WEBHOOK_URL",
        "",
        str,
        "When set, every alert is also POSTed here as JSON, signed (see Webhook).",
    ),
    Setting(
        "ALERT_WEBHOOK_SECRET",
        "",
        str,
        "HMAC-SHA256 key of the webhook signature. Required when `ALERT_WEBHOOK_URL` is set.",
    ),
    Setting(
        "ALERT_SEND_TIMEOUT_SECONDS",
        10,
        int,
        "Timeout of one SMTP conversation or one webhook POST.",
    ),
    Setting(
        "ALERT_MAX_ATTEMPTS",
        10,
        int,
        "Delivery attempts before an alert is marked `failed` (and logged as an error).",
    ),
    Setting(
        "ALERT_RETRY_BASE_SECONDS",
        30,
        int,
        "First retry delay; it doubles with each failed attempt (at most one hour).",
    ),
    Setting(
        "ALERT_DELIVERY_LEASE_SECONDS",
        120,
        int,
        "How long one worker owns an alert it is delivering. A worker that dies "
        "mid-delivery releases it when the lease runs out. Must exceed twice "
        "`ALERT_SEND_TIMEOUT_SECONDS`.",
    ),
    Setting(
        "ALERT_SWEEP_SECONDS",
        60,
        int,
        "Beat interval of the sweep that re-queues alerts whose delivery task was lost "
        "(broker down, worker killed); an alert counts as lost once it has waited this long.",
    ),
    Setting(
        "KEY_ROTATION_REMINDER_DAYS",
        90,
        int,
        "The daily reminder task mails the owner of an API key not rotated for this many "
        "days (once per key per such period).",
    ),
    Setting(
        "KEY_UNUSED_REMINDER_DAYS",
        30,
        int,
        "The daily reminder task mails the owner of an API key not used (or, if never "
        "used, created) this many days ago (once per key per such period).",
    ),
    Setting(
        "REFRESH_TOKEN_RETENTION_DAYS",
        7,
        int,
        "Expired and revoked refresh tokens are kept this long (for the 'expired' / "
        "'revoked' answers), then purged.",
    ),
    Setting(
        "REFRESH_TOKEN_PURGE_SECONDS",
        3600,
        int,
        "Beat interval of the refresh-token purge.",
    ),
    Setting(
        "REVOCATION_PUSH_SECONDS",
        10,
        int,
        "Beat interval of the task that flags in Redis the revocations decided while "
        "Redis was down (each process also pushes them before it trusts Redis again).",
    ),
    Setting(
        "REFRESH_TOKEN_PURGE_BATCH_SIZE",
        1000,
        int,
        "Rows deleted per statement (and per transaction) by the purge.",
    ),
    Setting(
        "PUBLIC_BASE_URL",
        "",
        str,
        "Where people reach this deployment, e.g. `https://wearables.example.com`; account "
        "mail links (invitations, password resets) start with it. Required when "
        "`APP_ENV=production`; elsewhere empty means each request's own origin.",
    ),
    Setting(
        "REAUTH_MAX_AGE_SECONDS",
        300,
        int,
        "How long a password proof (login, change-password, confirm-password) keeps a "
        "session fresh for removing developers and inviting them.",
    ),
    Setting(
        "INVITATION_EXPIRES_HOURS",
        72,
        int,
        "Lifetime of an invitation link.",
    ),
    Setting(
        "PASSWORD_RESET_EXPIRES_MINUTES",
        30,
        int,
        "Lifetime of a password-reset link.",
    ),
    Setting(
        "ACTIVITY_MINT_FAILURES_THRESHOLD",
        20,
        int,
        "Failed SDK token mints for one `app_id` within one `ACTIVITY_MINT_FAILURES_SECONDS` "
        "bucket that raise an `activity.mint_failures` alert. At most the "
        "`RATELIMIT_FAILED_MINTS_PER_APP` count, which refuses further mints (429) uncounted; "
        "the app refuses to start otherwise.",
    ),
    Setting(
        "ACTIVITY_MINT_FAILURES_SECONDS",
        300,
        int,
        "Length of the fixed buckets failed mints are counted in, per `app_id`.",
    ),
    Setting(
        "ACTIVITY_AUTH_FAILURES_THRESHOLD",
        50,
        int,
        "Refused API keys from one network (IPv4 /24, IPv6 /48) within one "
        "`ACTIVITY_AUTH_FAILURES_SECONDS` bucket that raise an `activity.auth_failures` alert.",
    ),
    Setting(
        "ACTIVITY_AUTH_FAILURES_SECONDS",
        300,
        int,
        "Length of the fixed buckets refused API keys are counted in, per network.",
    ),
    Setting(
        "ACTIVITY_NEW_NETWORK_LEARNING_SECONDS",
        86400,
        int,
        "A new API key's first this-many seconds: the networks it is used from are "
        "remembered without an `activity.new_network` alert (0: alert from the first use).",
    ),
    Setting(
        "ACTIVITY_NEW_NETWORK_MEMORY_DAYS",
        30,
        int,
        "A network an API key was not used from for this many days is new again.",
    ),
    Setting(
        "ACTIVITY_LIMIT_SUSTAINED_MINUTES",
        5,
        int,
        "Consecutive minutes with requests refused by an API key's rate limit (429) that "
        "raise an `activity.limit_sustained` alert (at most 120, the minutes Redis keeps).",
    ),
    Setting(
        "ACTIVITY_SPIKE_FACTOR",
        10,
        int,
        "An API key's requests in the current hour reaching this many times the median of "
        "its hourly requests over `ACTIVITY_SPIKE_BASELINE_HOURS` raise an "
        "`activity.traffic_spike` alert.",
    ),
    Setting(
        "ACTIVITY_SPIKE_BASELINE_HOURS",
        24,
        int,
        "The completed hours before the current one whose median is a key's usual traffic.",
    ),
    Setting(
        "SECRET_SCANNING_PUBLIC_KEYS_FILE",
        "",
        str,
        "JSON file of GitHub's secret-scanning public keys, as "
        "`https://api.github.com/meta/public_keys/secret_scanning` serves them; re-read on "
        "every report. When set, `POST /api/v1/secret-scanning/reports` exists (404 otherwise).",
    ),
    Setting(
        "SECRET_SCANNING_ACTION",
        "revoke",
        str,
        "What a leaked API key reported by GitHub gets: `revoke` (refused until rotated, "
        "and an alert) or `alert` (an alert only).",
    ),
)

SETTING_NAMES = frozenset(setting.name for setting in SETTINGS)


def normalise_database_url(url: str) -> str:
    """Route plain PostgreSQL URLs to psycopg 3, the only driver installed."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def _check_alert_settings(config: Mapping[str, Any]) -> None:
    if config["ALERT_WEBHOOK_URL"] and not config["ALERT_WEBHOOK_SECRET"]:
        raise ValueError("ALERT_WEBHOOK_URL is set but ALERT_WEBHOOK_SECRET is empty.")
    if config["ALERT_WEBHOOK_URL"] and not config["ALERT_WEBHOOK_URL"].startswith(
        ("http://", "https://")
    ):
        raise ValueError("ALERT_WEBHOOK_URL must be an http:// or https:// URL.")
    if config["ALERT_DELIVERY_LEASE_SECONDS"] <= 2 * config["ALERT_SEND_TIMEOUT_SECONDS"]:
        raise ValueError("ALERT_DELIVERY_LEASE_SECONDS must exceed 2 x ALERT_SEND_TIMEOUT_SECONDS.")


def _check_secret_scanning_settings(config: Mapping[str, Any]) -> None:
    if config["SECRET_SCANNING_ACTION"] not in SECRET_SCANNING_ACTIONS:
        raise ValueError(
            f"SECRET_SCANNING_ACTION must be one of {', '.join(SECRET_SCANNING_ACTIONS)}."
        )


ACTIVITY_SETTINGS = (
    "ACTIVITY_MINT_FAILURES_THRESHOLD",
    "ACTIVITY_MINT_FAILURES_SECONDS",
    "ACTIVITY_AUTH_FAILURES_THRESHOLD",
    "ACTIVITY_AUTH_FAILURES_SECONDS",
    "ACTIVITY_NEW_NETWORK_MEMORY_DAYS",
    "ACTIVITY_LIMIT_SUSTAINED_MINUTES",
    "ACTIVITY_SPIKE_FACTOR",
    "ACTIVITY_SPIKE_BASELINE_HOURS",
)
LONGEST_LIMIT_STREAK_MINUTES = 120
"""The minutes the usage analytics keep in Redis (`app.usage.minutes.MINUTES_KEPT`)."""


def _check_activity_settings(config: Mapping[str, Any]) -> None:
    for name in ACTIVITY_SETTINGS:
        if config[name] < 1:
            raise ValueError(f"{name} must be 1 or more.")
    if config["ACTIVITY_NEW_NETWORK_LEARNING_SECONDS"] < 0:
        raise ValueError("ACTIVITY_NEW_NETWORK_LEARNING_SECONDS must be 0 or more.")
    if config["ACTIVITY_LIMIT_SUSTAINED_MINUTES"] > LONGEST_LIMIT_STREAK_MINUTES:
        raise ValueError(
            f"ACTIVITY_LIMIT_SUSTAINED_MINUTES must be at most {LONGEST_LIMIT_STREAK_MINUTES}."
        )
    # A mint refused by the failed-mint limit is not a failure counted: a threshold over
    # the limit's count could never be reached, and the alert would never come.
    failed_mints = parse(config["RATELIMIT_FAILED_MINTS_PER_APP"]).amount
    if config["ACTIVITY_MINT_FAILURES_THRESHOLD"] > failed_mints:
        raise ValueError(
            "ACTIVITY_MINT_FAILURES_THRESHOLD must not exceed the count of "
            f"RATELIMIT_FAILED_MINTS_PER_APP ({failed_mints})."
        )


def _check_signing_settings(config: Mapping[str, Any]) -> None:
    if config["JWT_ALGORITHM"] not in JWT_ALGORITHMS:
        raise ValueError(f"JWT_ALGORITHM must be one of {', '.join(JWT_ALGORITHMS)}.")
    asymmetric = config["JWT_ALGORITHM"] != "HS256"
    if asymmetric and not config["JWT_PRIVATE_KEYS_FILE"] and config["APP_ENV"] != "development":
        raise ValueError(f"JWT_ALGORITHM={config['JWT_ALGORITHM']} needs JWT_PRIVATE_KEYS_FILE.")
    if config["REFRESH_TOKEN_REUSE_GRACE_SECONDS"] < 0:
        raise ValueError("REFRESH_TOKEN_REUSE_GRACE_SECONDS must be 0 or more.")
    if config["JWT_KEY_ACTIVATION_DELAY_SECONDS"] <= config["JWKS_CACHE_SECONDS"]:
        raise ValueError("JWT_KEY_ACTIVATION_DELAY_SECONDS must exceed JWKS_CACHE_SECONDS.")


def load_config(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the Flask config from the environment, then apply explicit overrides."""
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.name)
        config[setting.name] = setting.default if raw is None else setting.cast(raw)
    config.update(overrides)
    if config["APP_ENV"] == "production":
        for setting in SETTINGS:
            given = setting.name in environ or setting.name in overrides
            if setting.production_default is not None and not given:
                config[setting.name] = setting.production_default

    _check_alert_settings(config)
    _check_signing_settings(config)
    _check_secret_scanning_settings(config)
    _check_activity_settings(config)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["DATABASE_URL"])
    config["TESTING"] = config["APP_ENV"] == "testing" or config.get("TESTING", False)
    config["JWT_SECRET_KEY"] = config["SECRET_KEY"]
    config["JWT_DECODE_ALGORITHMS"] = [config["JWT_ALGORITHM"]]
    config["JWT_ENCODE_NBF"] = False
    config["JWT_TOKEN_LOCATION"] = ["headers"]
    config["API_TITLE"] = "Open Wearables Auth"
    config["API_VERSION"] = "v1"
    config["OPENAPI_VERSION"] = "3.0.3"
    # flask-smorest serves neither the document nor the UI without a URL prefix.
    config["OPENAPI_URL_PREFIX"] = "/" if config["API_DOCS_ENABLED"] else None
    config["OPENAPI_JSON_PATH"] = "api/v1/openapi.json"
    config["OPENAPI_SWAGGER_UI_PATH"] = "docs"
    # Served from the pinned swagger-ui-bundle package (app/core/api.py): no CDN.
    config["OPENAPI_SWAGGER_UI_URL"] = SWAGGER_UI_ASSETS_URL
    # Swagger UI would otherwise fetch a validity badge from validator.swagger.io.
    config["OPENAPI_SWAGGER_UI_CONFIG"] = {"validatorUrl": None}
    return config
