"""Per phone number throughput, shared by every worker: a token bucket in Redis."""

import time

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
            return waited
        if waited >= timeout:
            raise TimeoutError(f"no send slot for {phone_number_id} within {timeout} s")
        time.sleep(wait_ms / 1000)
        waited += wait_ms / 1000
