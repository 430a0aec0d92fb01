"""Live events for the dashboard: published to a Redis channel per shop, read by the SSE stream."""

import json
import logging

from django.db import connection

from config.redis import redis_client

logger = logging.getLogger(__name__)


def channel_name(schema_name: str) -> str:
    return f"warung:live:{schema_name}"


def publish(event: str, data: dict) -> None:
    """Best effort: a missed live event only delays the screen until its next refresh."""
    try:
        redis_client().publish(channel_name(connection.schema_name), json.dumps({"event": event, "data": data}))
    except Exception:
        logger.warning("live event %s not published", event)
