"""The Celery app. Tasks run in the schema of the shop that queued them (tenant-schemas-celery)."""

import os

from celery import signals
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("warung")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def redact_worker_logs(logger, **kwargs):
    """Celery sets up its own log handlers: they get the same redaction as the web's (config/redaction.py)."""
    from config.redaction import redact_handlers

    redact_handlers(logger)


@signals.task_postrun.connect
def drop_broken_database_connections(**kwargs):
    """Workers keep their database connection across tasks (CELERY_DB_REUSE_MAX), so Celery no longer closes it
    after each one. A connection that failed and no longer answers (PostgreSQL restarted) is closed here, as
    Django does after a request, so the next task connects anew instead of failing on it until the recycle."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and connection.errors_occurred:
            if connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()


# How much a worker that does not serve the `interactive` queue defers to one that does (0: not at all).
BACKGROUND_NICE = int(os.environ.get("CELERY_BACKGROUND_NICE", "19"))


@signals.celeryd_after_setup.connect
def background_workers_yield_the_cpu(sender, instance, **kwargs):
    """Where workers share a machine, status updates and sweeps run at a lower CPU priority than customer
    messages and broadcast sends, so a backlog of them never slows an auto-reply or a promotion. Set before
    the pool starts: its threads or processes inherit it."""
    queues = instance.app.amqp.queues.consume_from
    if BACKGROUND_NICE and "interactive" not in queues and "broadcasts" not in queues:
        os.nice(BACKGROUND_NICE)


@signals.worker_ready.connect
def serve_metrics(sender, **kwargs):
    """A worker's pod has no web server: with METRICS_PORT (and METRICS_TOKEN) set, its main process serves the
    counters of the worker's processes for Prometheus (config/metrics.py). The web's /metrics serves its own."""
    port = int(os.environ.get("METRICS_PORT") or 0)
    if port and os.environ.get("METRICS_TOKEN"):
        from config.metrics import serve_worker_metrics

        serve_worker_metrics(port)
