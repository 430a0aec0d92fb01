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
# Recycle workers now and then, against slow memory growth. (The PostgreSQL backends, which cache the catalog
# of every shop schema they saw, are renewed every CONN_MAX_AGE seconds by Django, whatever this says.) A
# recycle costs a worker's start-up: at webhook rates, 5,000 requests was one a minute per worker.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000
accesslog = "-"
# JSON lines with the request id and shop, without query strings, tokens or phone numbers (config/access_log.py).
logger_class = "config.access_log.JsonAccessLogger"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    """Error log lines pass through the same redaction as the app's (config/redaction.py); access lines are
    redacted once, as the logger class writes them (every webhook writes one: twice was a cost worth saving)."""
    import logging

    from config.redaction import redact_handlers

    redact_handlers(logging.getLogger("gunicorn.error"))


def post_worker_init(worker):
    """Django loads a URL configuration, and with it most views' modules, on the first request that needs it:
    done here, before the worker takes requests, so no customer's webhook or page waits for those imports."""
    from django.conf import settings
    from django.urls import get_resolver

    for urlconf in (settings.PUBLIC_SCHEMA_URLCONF, settings.ROOT_URLCONF):
        get_resolver(urlconf).url_patterns  # noqa: B018 - loading them is the point
