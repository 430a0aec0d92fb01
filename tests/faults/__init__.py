"""The fault suite (`pytest -m fault`), with the real services, each fault in a file of its own:

- test_redis_outage.py: Redis stopped for 30 s while webhooks arrive at 100 a second;
- test_postgres_restart.py: PostgreSQL restarted under webhooks and dashboard reads;
- test_whatsapp_failing.py: WhatsApp answering one call in five with a 5xx;
- a broadcast worker SIGKILLed mid-broadcast: tests/whatsapp/broadcasts/test_sending.py (it needs that folder's
  sending stack), marked `fault` too.

Each stack has a Redis (and, for PostgreSQL, a cluster) of its own, so a test can stop it without touching the
rest of the suite.
"""
