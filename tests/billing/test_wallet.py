"""The prepaid balance: credited once, never overdrawn by parallel sends, capped by the month's limit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import translation
from django_tenants.utils import tenant_context

from billing import metering, wallet
from billing.models import BillingAccount, Reservation
from tenants.models import Shop
from tests.factories import create_shop

pytestmark = pytest.mark.django_db


def delivered(wamid: str) -> dict:
    return {
        "id": wamid,
        "status": "delivered",
        "timestamp": "1795000000",
        "recipient_id": "6281234567890",
        "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"},
    }


def test_a_top_up_is_credited_once_however_often_stripe_reports_it():
    shop, _ = create_shop()
    assert wallet.credit_top_up(shop.pk, 250_000, "pi:abc")
    assert not wallet.credit_top_up(shop.pk, 250_000, "pi:abc")
    assert BillingAccount.objects.get(shop=shop).balance == 250_000


def test_a_broadcast_larger_than_the_balance_is_refused_before_anything_is_sent():
    shop, _ = create_shop()
    wallet.credit_top_up(shop.pk, 50_000, "pi:small")
    with pytest.raises(wallet.SpendRefused) as refusal, translation.override("en"):
        wallet.reserve(shop.pk, "broadcast:1", Decimal("81378"))
    assert refusal.value.code == "balance_empty"
    assert "Rp81.378 needed, Rp50.000 left" in refusal.value.message
    assert BillingAccount.objects.get(shop=shop).reserved == 0


def test_the_monthly_cap_refuses_paid_sends_and_alerts_the_owner_at_80_and_100_percent(settings):
    shop, owner = create_shop()
    wallet.credit_top_up(shop.pk, 100_000, "pi:cap")
    wallet.set_preferences(
        shop.pk, monthly_cap=Decimal("2000"), auto_recharge=False, auto_recharge_below=0, auto_recharge_amount=0
    )
    now = str(int(dt.datetime.now(dt.UTC).timestamp()))

    def spend(wamid: str) -> None:
        with tenant_context(shop):
            metering.record_statuses([{**delivered(wamid), "timestamp": now}])
        wallet.after_spend(shop.pk)  # on_commit hooks do not run inside the test's transaction

    spend("wamid.c1")
    assert mail.outbox == []  # Rp813,78 of Rp2.000: 40%
    spend("wamid.c2")  # 81%
    with pytest.raises(wallet.SpendRefused) as refusal:
        wallet.reserve(shop.pk, "msg:over", Decimal("813.78"))
    assert refusal.value.code == "cap_reached"
    spend("wamid.c3")  # a message Meta priced anyway (sent before the cap): 122%
    spend("wamid.c4")
    assert [m.to for m in mail.outbox] == [[owner.email], [owner.email]]
    assert "80%" in mail.outbox[0].subject and "100%" in mail.outbox[1].subject


def test_a_broadcast_holds_its_estimate_once_and_each_message_frees_its_share_exactly_once():
    shop, _ = create_shop()
    wallet.credit_top_up(shop.pk, 100_000, "pi:broadcast")
    wallet.reserve(shop.pk, "broadcast:7", Decimal("2700"))  # 3 recipients, Rp900 estimated each
    share = {f"wamid.r{n}": ("broadcast:7", Decimal("900")) for n in (1, 2, 3)}

    with tenant_context(shop):
        assert metering.record_statuses([delivered("wamid.r1")], holds=share) == 1
        held = BillingAccount.objects.get(shop=shop)
        assert (held.reserved, held.available) == (Decimal("1800"), Decimal("100000") - Decimal("813.78") - 1800)
        assert metering.record_statuses([delivered("wamid.r1"), delivered("wamid.r2")], holds=share) == 1
    assert BillingAccount.objects.get(shop=shop).reserved == Decimal("900")  # the repeated status freed nothing
    assert wallet.free_hold(shop.pk, "broadcast:7", Decimal("900")) == Decimal("900")  # the third failed
    assert wallet.free_hold(shop.pk, "broadcast:7", Decimal("900")) == 0  # nothing left to free

    account = BillingAccount.objects.get(shop=shop)
    assert account.balance == Decimal("100000") - 2 * Decimal("813.78")  # the two real prices, nothing more
    assert account.reserved == 0
    reservation = Reservation.objects.get(account=account, reference="broadcast:7")
    assert (reservation.remaining, reservation.state) == (0, Reservation.State.SETTLED)
    assert list(account.entries.filter(kind="usage").values_list("amount", flat=True)) == [
        Decimal("-813.7800"),
        Decimal("-813.7800"),
    ]


@pytest.mark.parametrize(
    ("locale", "subject", "body"),
    [
        (
            None,
            "Pengeluaran WhatsApp mencapai 100% dari batas Anda",
            "telah memakai Rp814 dari batas WhatsApp bulanan Rp800",
        ),
        ("en", "WhatsApp spending at 100% of your cap", "has spent Rp814 of its Rp800 monthly WhatsApp cap"),
    ],
)
def test_the_cap_alert_is_written_in_the_shop_language_indonesian_unless_it_chose_another(locale, subject, body):
    shop, owner = create_shop()
    if locale:
        Shop.objects.filter(pk=shop.pk).update(locale=locale)
    wallet.credit_top_up(shop.pk, 100_000, "pi:language")
    wallet.set_preferences(
        shop.pk, monthly_cap=Decimal("800"), auto_recharge=False, auto_recharge_below=0, auto_recharge_amount=0
    )
    now = str(int(dt.datetime.now(dt.UTC).timestamp()))
    with tenant_context(shop), translation.override("en"):  # whatever language the worker happens to run in
        metering.record_statuses([{**delivered("wamid.lang"), "timestamp": now}])
        wallet.after_spend(shop.pk)

    assert [(m.to, m.subject) for m in mail.outbox] == [([owner.email], subject)]
    assert body in mail.outbox[0].body
