"""The local Stripe stand-in (billing/stripe_fake) as a real process on a free port, for tests."""

import contextlib
import os
import sys
from collections.abc import Iterator

from tests.support.servers import ROOT, free_port, running, sim_call, wait_until_up

# Point the SDK at the fake with `stripe.StripeClient(TEST_KEY, base_addresses={"api": base_url})`.
TEST_KEY = "sk_test_warung_tests"


@contextlib.contextmanager
def stripe_fake(webhook_url: str = "", webhook_secret: str = "whsec_test_secret", **options) -> Iterator[str]:
    """Runs `python -m billing.stripe_fake` until the block ends; yields its base URL (the SDK's api base).

    Extra keyword options become command-line flags (`webhook_retry_base_ms=20` -> `--webhook-retry-base-ms 20`).
    """
    port = free_port()
    command = [
        sys.executable, "-m", "billing.stripe_fake", "--host", "127.0.0.1", "--port", str(port),
        "--webhook-url", webhook_url, "--webhook-secret", webhook_secret,
    ]  # fmt: skip
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}"}
    with running("stripe_fake", command, env) as process:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"


def fake_call(base: str, method: str, path: str, body: dict | None = None):
    """A JSON call to the fake's control plane (`/_fake/...`)."""
    return sim_call(base, method, path, body)
