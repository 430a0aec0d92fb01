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


def publish_many(events: list[tuple[str, dict]]) -> None:
    """Several events in one round trip to Redis (a batch of statuses moves many messages at once)."""
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            for event, data in events:
                pipe.publish(channel_name(connection.schema_name), json.dumps({"event": event, "data": data}))
            pipe.execute()
    except Exception:
        logger.warning("%d live events not published", len(events))
