"""`python -m billing.stripe_fake --host 127.0.0.1 --port 12111 --webhook-url ... --webhook-secret whsec_...`."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from .app import FakeConfig, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m billing.stripe_fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--public-base-url", default=None, help="origin of checkout/portal URLs (default: request's)")
    parser.add_argument("--webhook-url", default="", help="where signed events are POSTed (none: only recorded)")
    parser.add_argument("--webhook-secret", default="whsec_fake", help="the endpoint's signing secret")
    parser.add_argument("--webhook-max-attempts", type=int, default=4)
    parser.add_argument("--webhook-retry-base-ms", type=int, default=500, help="first retry delay; doubles each time")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = FakeConfig(
        public_base_url=args.public_base_url,
        settings={
            "webhook_url": args.webhook_url,
            "webhook_secret": args.webhook_secret,
            "webhook_max_attempts": args.webhook_max_attempts,
            "webhook_retry_base_ms": args.webhook_retry_base_ms,
        },
    )
    print(f"Stripe fake on http://{args.host}:{args.port}/ (API at /v1, control plane at /_fake)", flush=True)
    web.run_app(create_app(config), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
