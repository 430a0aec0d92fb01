"""One Redis connection pool per process, for locks and counters outside Django's cache."""

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)
