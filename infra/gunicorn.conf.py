"""Gunicorn settings for every environment; override with GUNICORN_* environment variables."""

import os

# Django, with the WhatsApp webhook POSTs answered before its middleware (see whatsapp/channel/wsgi.py).
wsgi_app = "whatsapp.channel.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads, not processes, carry the live inbox streams (each waits on Redis most of the time).
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
worker_class = "gthread"
# Worker heartbeats in memory: a disk-backed /tmp (containers, read-only roots with a volume) can stall them.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - gunicorn creates its heartbeat files there with mkstemp
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then: each PostgreSQL backend caches the catalog of every shop schema it saw.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
accesslog = "-"
# JSON lines with the request id and shop, without query strings, tokens or phone numbers (config/access_log.py).
logger_class = "config.access_log.JsonAccessLogger"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    """Access and error log lines pass through the same redaction as the app's (config/redaction.py)."""
    import logging

    from config.redaction import redact_handlers

    redact_handlers(logging.getLogger("gunicorn.access"), logging.getLogger("gunicorn.error"))
