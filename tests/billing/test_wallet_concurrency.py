"""Parallel workers spending one shop's balance: on real concurrent connections with committed data."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.db import connection
from django_tenants.utils import tenant_context

from billing import metering, wallet
from billing.models import BillingAccount, Reservation
from tests.billing.test_wallet import delivered
from tests.factories import create_shop


def test_parallel_sends_never_spend_more_than_the_balance(committed):
    shop, _ = create_shop()
    wallet.credit_top_up(shop.pk, 10_000, "pi:parallel")

    def send(number: int) -> str:
        try:
            wallet.reserve(shop.pk, f"msg:{number}", Decimal("900"))
            return "held"
        except wallet.SpendRefused as refusal:
            return refusal.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as workers:
        outcomes = list(workers.map(send, range(40)))

    assert outcomes.count("held") == 11  # 11 x Rp900 = Rp9.900 fits in Rp10.000; the 12th would not
    assert outcomes.count("balance_empty") == 29
    account = BillingAccount.objects.get(shop=shop)
    assert account.reserved == Decimal("9900") and account.available == Decimal("100")
    assert Reservation.objects.filter(account=account).count() == 11


def test_parallel_settlements_debit_each_message_exactly_once(committed):
    shop, _ = create_shop()
    wallet.credit_top_up(shop.pk, 100_000, "pi:settle")
    for number in range(60):
        wallet.reserve(shop.pk, f"msg:{number}", Decimal("813.78"))
        wallet.attach_wamid(shop.pk, f"msg:{number}", f"wamid.p{number}")
    batches = [[delivered(f"wamid.p{n}") for n in range(start, start + 20)] for start in (0, 20, 40)]
    batches += batches  # every webhook delivered twice, in parallel

    def process(batch: list[dict]) -> int:
        try:
            with tenant_context(shop):
                return metering.record_statuses(batch)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as workers:
        written = sum(workers.map(process, batches))

    assert written == 60
    account = BillingAccount.objects.get(shop=shop)
    assert account.balance == Decimal("100000") - 60 * Decimal("813.78")
    assert account.reserved == 0
