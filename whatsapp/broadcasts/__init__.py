"""Broadcasts: a promotion to an audience, costed before it goes, sent at the number's full throughput exactly
once per recipient, and followed down to the sale.

Public surface: `services` (compose, cost, start, pause, resume, cancel), `sender` (the send loop the workers
run), `tracking` (what status webhooks and replies tell a broadcast) and `results` (funnel, retargeting).
"""
