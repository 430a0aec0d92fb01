"""Per phone number throughput, shared by every worker: a token bucket in Redis."""

import asyncio
import time

from django.conf import settings

from config import metrics
from config.redis import redis_client

# KEYS[1] bucket; ARGV: rate per second, burst, now (ms). Returns ms to wait (0 = token taken).
_TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return wait
"""


def acquire(phone_number_id: str, per_second: float, *, timeout: float = 30.0) -> float:
    """Blocks until a send slot is free; returns the seconds waited."""
    script = redis_client().register_script(_TOKEN_BUCKET)
    burst = max(1.0, per_second / 10)
    waited = 0.0
    while True:
        wait_ms = script(keys=[f"warung:rate:{phone_number_id}"], args=[per_second, burst, int(time.time() * 1000)])
        if not wait_ms:
            metrics.waited(waited)
            return waited
        if waited >= timeout:
            raise TimeoutError(f"no send slot for {phone_number_id} within {timeout} s")
        time.sleep(wait_ms / 1000)
        waited += wait_ms / 1000


# KEYS[1] bucket; ARGV: rate per second, burst, now (ms), tokens wanted. Returns {tokens taken, ms to wait}.
_TAKE_MANY = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local wanted = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local taken = math.min(wanted, math.floor(tokens))
local wait = 0
if taken < 1 then
  taken = 0
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
tokens = tokens - taken
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return {taken, wait}
"""

# Meta's throughput tiers: 80 messages/s by default, up to 1,000 once a number is upgraded.
TIER_MPS = {"HIGH": 1000}


def number_rate(account) -> float:
    """Messages per second this number may send (inbound and outbound share it)."""
    return float(TIER_MPS.get((account.throughput_level or "").upper(), settings.WHATSAPP_DEFAULT_MPS))


class AsyncLimiter:
    """The same bucket for an asyncio sender: tokens are fetched from Redis a few at a time (never more than
    the bucket's burst), so a thousand sends a second cost tens of Redis calls, not thousands."""

    def __init__(self, redis, phone_number_id: str, per_second: float) -> None:
        self.redis = redis
        self.key = f"warung:rate:{phone_number_id}"
        self.per_second = per_second
        self.burst = max(1.0, per_second / 10)
        self.script = redis.register_script(_TAKE_MANY)
        self.tokens = 0
        self.waited = 0.0
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        while self.tokens < 1:
            async with self.lock:
                if self.tokens >= 1:
                    break
                wanted = max(1, int(self.burst))
                taken, wait_ms = await self.script(
                    keys=[self.key], args=[self.per_second, self.burst, int(time.time() * 1000), wanted]
                )
                self.tokens += int(taken)
                if not taken:
                    self.waited += wait_ms / 1000
                    metrics.waited(wait_ms / 1000)
                    await asyncio.sleep(wait_ms / 1000)
        self.tokens -= 1
