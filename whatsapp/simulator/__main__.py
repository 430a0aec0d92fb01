"""`python -m whatsapp.simulator --host 127.0.0.1 --port 8010`: the WhatsApp Cloud API simulator."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from .app import SimConfig, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m whatsapp.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--public-base-url", default=None, help="base of media download URLs (default: request origin)")
    parser.add_argument("--sent-ms", type=float, default=50, help="delay of the 'sent' status webhook")
    parser.add_argument("--delivered-ms", type=float, default=150, help="delay of the 'delivered' status webhook")
    parser.add_argument("--read-ms", type=float, default=1500, help="delay of the 'read' status webhook")
    parser.add_argument("--read-mode", choices=("always", "phone_open", "never"), default="always")
    parser.add_argument("--window-error-mode", choices=("sync", "webhook"), default="sync")
    parser.add_argument("--webhook-workers", type=int, default=16)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = SimConfig(
        public_base_url=args.public_base_url,
        webhook_workers=args.webhook_workers,
        faults={
            "status_delays_ms": {"sent": args.sent_ms, "delivered": args.delivered_ms, "read": args.read_ms},
            "read_mode": args.read_mode,
            "window_error_mode": args.window_error_mode,
        },
    )
    print(f"WhatsApp Cloud API simulator on http://{args.host}:{args.port}/ (phone page at /)", flush=True)
    web.run_app(create_app(config), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
