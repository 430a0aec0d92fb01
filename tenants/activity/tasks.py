from config.celery import app

from .services import record_activity


@app.task(bind=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def record_activity_task(self, *, actor_id: int | None, action: str, summary: str, detail: dict | None = None) -> int:
    """Records activity from background work; tenant-schemas-celery runs it in the queuing shop's schema."""
    return record_activity(actor_id=actor_id, action=action, summary=summary, detail=detail).pk
