"""gunicorn settings for `make serve` and the `api` container.

`gunicorn --config gunicorn.conf.py wsgi:app` is how production starts the app.

Every value comes from a `GUNICORN_*` setting of `app/config.py` (defaults and docs there
and in the README), so the app and its server are configured from one table.
"""

from app.config import load_config

settings = load_config()

bind = settings["GUNICORN_BIND"]
workers = settings["GUNICORN_WORKERS"]
threads = settings["GUNICORN_THREADS"]
worker_class = "gthread"
timeout = settings["GUNICORN_TIMEOUT"]
graceful_timeout = settings["GUNICORN_GRACEFUL_TIMEOUT"]
keepalive = settings["GUNICORN_KEEPALIVE"]

# Only the app's ProxyFix (TRUSTED_PROXY_HOPS) decides what X-Forwarded-* headers mean;
# gunicorn's own trust of 127.0.0.1 would let a local client claim https.
forwarded_allow_ips = ""

# gunicorn ≥ 25 opens a control socket at one per-user path ($HOME/.gunicorn): every
# instance on a host would fight over it. Signals (HUP, TERM, TTIN/TTOU) manage workers.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
# The path without its query string (which may carry a token), no Referer (whose query
# may), no user: remote address, request, status, bytes, milliseconds, user agent.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
