"""A local stand-in for the Stripe API (`python -m billing.stripe_fake`), for tests and `make run`. No Django here.

Point the official SDK at it; both styles work with stripe==16.1.0:

    client = stripe.StripeClient("sk_test_anything", base_addresses={"api": "http://127.0.0.1:12111"})
    client.v1.customers.create(params={"email": "owner@shop.test"})

    stripe.api_key, stripe.api_base = "sk_test_anything", "http://127.0.0.1:12111"
    stripe.Customer.create(email="owner@shop.test")

Any key starting `sk_test_` is accepted; everything else gets Stripe's 401. Requests are form-encoded with
Stripe's bracket notation, answers are Stripe's object and error shapes (API version `state.API_VERSION`),
POSTs honour `Idempotency-Key`. Events are signed as Stripe signs them (`stripe.Webhook.construct_event`
accepts them) and POSTed to `--webhook-url`; `/_fake/...` drives what a customer or the bank would do
(complete a checkout, fail a renewal) and sets the fault knobs. Amounts follow Stripe's currency rules:
IDR is a two-decimal currency there, so `unit_amount=5000000` in `idr` is Rp50.000.
"""

from .app import FakeConfig, create_app

__all__ = ["FakeConfig", "create_app"]
