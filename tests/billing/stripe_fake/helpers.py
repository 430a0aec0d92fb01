"""Small helpers: a plan price through the SDK, and a browser-like form POST that does not follow redirects."""

import urllib.error
import urllib.parse
import urllib.request

import stripe


def plan_price(client: stripe.StripeClient, amount: int = 15_000_000, currency: str = "idr", name: str = "Pro"):
    product = client.v1.products.create(params={"name": name, "metadata": {"plan": name.lower()}})
    return client.v1.prices.create(
        params={"product": product.id, "currency": currency, "unit_amount": amount, "recurring": {"interval": "month"}}
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get_page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def submit(url: str, fields: dict) -> tuple[int, dict, str]:
    """POSTs a form as the browser would; returns (status, headers, body) without following a redirect."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
