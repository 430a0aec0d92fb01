"""The fake's hosted pages: Checkout, the Customer Portal and a hosted invoice. Small, real HTML forms."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from .state import format_amount

STYLE = """
body{font-family:system-ui,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}
main{max-width:440px;margin:40px auto;background:#fff;border-radius:8px;padding:28px;box-shadow:0 2px 8px #0002}
.badge{display:inline-block;background:#ffde92;color:#8a4b00;font-size:12px;font-weight:600;padding:2px 8px;
border-radius:4px}
label{display:block;margin:12px 0 4px;font-size:14px}input{width:100%;padding:8px;box-sizing:border-box;font-size:16px}
button{margin-top:18px;width:100%;padding:12px;background:#635bff;color:#fff;border:0;border-radius:6px;font-size:16px}
.error{color:#df1b41;font-weight:600}table{width:100%;border-collapse:collapse}td,th{padding:6px 0;text-align:left}
.amount{font-size:28px;font-weight:700;margin:8px 0}a{color:#635bff}
"""


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
        f'<body><main><span class="badge">TEST MODE</span>{body}</main></body></html>'
    )


def date(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%d %b %Y") if ts else ""


def per_interval(price: dict) -> str:
    recurring = price.get("recurring")
    if not recurring:
        return ""
    count = recurring["interval_count"]
    return f" per {recurring['interval']}" if count == 1 else f" every {count} {recurring['interval']}s"


def checkout(
    session: dict, lines: list[dict], error: str | None = None, card: str = "4242 4242 4242 4242", email: str = ""
) -> str:
    total = format_amount(session["amount_total"], session["currency"])
    interval = per_interval(lines[0]["price"]) if session["mode"] == "subscription" else ""
    rows = "".join(
        f"<tr><td>{escape(line['description'])} × {line['quantity']}</td>"
        f"<td>{format_amount(line['amount_total'], line['currency'])}</td></tr>"
        for line in lines
    )
    trial = (session.get("_subscription_data") or {}).get("trial_period_days")
    name = escape(lines[0]["description"])
    heading = f"Try {name}" if trial else (f"Subscribe to {name}" if session["mode"] == "subscription" else name)
    alert = f'<p class="error" role="alert" data-testid="stripe-error">{escape(error)}</p>' if error else ""
    cancel = (
        f'<p><a href="{escape(session["cancel_url"])}" data-testid="stripe-cancel">Cancel and go back</a></p>'
        if session.get("cancel_url")
        else ""
    )
    button = "Start trial" if trial else ("Subscribe" if session["mode"] == "subscription" else "Pay")
    return page(
        "Checkout",
        f"<h1>{heading}</h1>"
        f"{f'<p>{trial} days free, then</p>' if trial else ''}"
        f'<p class="amount" data-testid="stripe-amount">{total}{interval}</p>'
        f"<table>{rows}</table>"
        f'<form method="post" action="/checkout/{escape(session["id"])}/pay">'
        f'<label for="email">Email</label><input id="email" name="email" type="email" value="{escape(email)}">'
        f'<label for="card">Card number</label><input id="card" name="card_number" inputmode="numeric" '
        f'autocomplete="cc-number" value="{escape(card)}" data-testid="stripe-card-number">'
        f'<label for="exp">Expiry</label><input id="exp" name="expiry" value="12 / 34">'
        f'<label for="cvc">CVC</label><input id="cvc" name="cvc" value="123">'
        f'<label for="name">Name on card</label><input id="name" name="name" value="">'
        f'{alert}<button type="submit" data-testid="stripe-pay">{button} {total}</button></form>{cancel}',
    )


def checkout_closed(session: dict) -> str:
    link = session.get("success_url") if session["status"] == "complete" else session.get("cancel_url")
    back = f'<p><a href="{escape(link)}">Return to the merchant</a></p>' if link else ""
    text = "This payment is complete." if session["status"] == "complete" else "This checkout session has expired."
    return page("Checkout", f"<h1>{text}</h1>{back}")


def portal(session: dict, customer: dict, subscriptions: list[dict], invoices: list[dict], methods: list[dict],
           name_of) -> str:  # fmt: skip
    subs = ""
    for sub in subscriptions:
        item = sub["items"]["data"][0]
        price = item["price"]
        end = item["current_period_end"]
        if sub["status"] == "canceled":
            note = f"Canceled {date(sub['ended_at'])}"
        elif sub["cancel_at_period_end"]:
            note = f"Cancels {date(end)}"
        else:
            note = f"Renews {date(end)}"
        action = (
            f'<form method="post" action="/p/session/{escape(session["id"])}/subscriptions/{escape(sub["id"])}/cancel">'
            f'<button type="submit" data-testid="portal-cancel">Cancel plan</button></form>'
            if sub["status"] in ("active", "trialing", "past_due") and not sub["cancel_at_period_end"]
            else ""
        )
        subs += (
            f'<section data-testid="portal-subscription"><h2>{escape(name_of(price))}</h2>'
            f"<p>{format_amount(price['unit_amount'] * item['quantity'], price['currency'])}{per_interval(price)}"
            f' · <span data-testid="portal-status">{escape(sub["status"])}</span> · {note}</p>{action}</section>'
        )
    cards = "".join(f"<li>{escape(m['card']['brand'].title())} •••• {escape(m['card']['last4'])}</li>" for m in methods)
    rows = "".join(
        f"<tr><td>{date(inv['created'])}</td><td>{format_amount(inv['total'], inv['currency'])}</td>"
        f'<td>{escape(inv["status"])}</td><td><a href="{escape(inv["hosted_invoice_url"])}">{escape(inv["number"])}'
        f"</a></td></tr>"
        for inv in invoices
    )
    back = (
        f'<p><a href="{escape(session["return_url"])}" data-testid="portal-return">Return</a></p>'
        if session.get("return_url")
        else ""
    )
    return page(
        "Billing",
        f"<h1>{escape(customer.get('name') or customer.get('email') or customer['id'])}</h1>{back}"
        f"<h2>Current plan</h2>{subs or '<p>No subscriptions.</p>'}"
        f"<h2>Payment methods</h2><ul>{cards or '<li>None</li>'}</ul>"
        f'<h2>Invoice history</h2><table data-testid="portal-invoices">{rows}</table>',
    )


def invoice(inv: dict) -> str:
    rows = "".join(
        f"<tr><td>{escape(line['description'])}</td><td>{format_amount(line['amount'], line['currency'])}</td></tr>"
        for line in inv["lines"]["data"]
    )
    return page(
        f"Invoice {inv['number']}",
        f"<h1>Invoice {escape(inv['number'])}</h1>"
        f'<p class="amount">{format_amount(inv["total"], inv["currency"])}</p>'
        f"<p>Status: {escape(inv['status'])} · {date(inv['period_start'])} – {date(inv['period_end'])}</p>"
        f"<table>{rows}</table>",
    )
