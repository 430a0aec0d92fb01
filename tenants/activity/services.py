"""The one writer of shop activity. Runs in whatever shop schema is active."""

from .models import ActivityEvent


def record_activity(*, actor_id: int | None, action: str, summary: str, detail: dict | None = None) -> ActivityEvent:
    return ActivityEvent.objects.create(actor_id=actor_id, action=action, summary=summary, detail=detail or {})
