"""gunicorn settings for pro-server: `gunicorn -c gunicorn.conf.py pro_server.wsgi:app`.

Copy this file to /etc/pro-server/ (the systemd unit reads it there). The application's own
settings come from the environment (see README, Configuration); these are the web server's.
PRO_BIND and PRO_WEB_WORKERS override the listening address and the worker count.
"""

import os

# Behind a TLS-terminating proxy on the same machine: listen on loopback only.
bind = os.environ.get("PRO_BIND", "127.0.0.1:8000")
# Each worker is a process with its own database pool; 2-4 per CPU core is usual.
workers = int(os.environ.get("PRO_WEB_WORKERS", "4"))
worker_class = "gthread"
threads = 4
# Exports stream; a slow EDC pull may take a while, but a stuck request is cut.
timeout = 120
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (bounded memory growth), not all at once. Rarely: a worker's
# start costs about 1.4 s of CPU (imports, instrument and protocol definitions) and its first
# requests compile their statements, so recycling every 2,000 requests cost a busy server
# about a fifth of its CPU per request. A worker's memory was flat under load (+0.5 MB over
# 16,000 participant requests, bench/participant_load.py).
max_requests = 20000
max_requests_jitter = 2000
# Each worker builds its own app and engine (no connections shared across fork).
preload_app = False
# Logs to stdout/stderr: the journal keeps them. The access log has paths but no bodies;
# participant links carry their token in the URL fragment, which browsers never send.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Only the local proxy may set X-Forwarded-* for gunicorn itself.
forwarded_allow_ips = "127.0.0.1"
