"""The operator's health page: is the intake keeping up, are the queues draining, which shops are failing.

The same figures Prometheus scrapes (config/metrics.py) for the intake and the queues, plus, per shop, what
needs the operator: a WhatsApp number whose token expired (error 190) or that failed its last check, webhooks
refused for a bad signature, webhooks that failed processing, messages WhatsApp would not take or deliver,
each over the last 24 hours.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.metrics import intake_backlog, queue_depths
from tenants.models import Shop
from whatsapp.channel.intake import refusals_by_shop
from whatsapp.channel.models import DeliveryFailure, WebhookIntake, WhatsAppAccount

WINDOW = timedelta(hours=24)
TOKEN_EXPIRED = 190


@dataclass
class FailingShop:
    shop: Shop
    accounts: list[WhatsAppAccount] = field(default_factory=list)
    webhooks_refused: int = 0
    webhooks_failed: int = 0
    messages_failed: int = 0
    last_failure_reason: str = ""

    @property
    def token_expired(self) -> bool:
        return any(account.last_error_code == TOKEN_EXPIRED for account in self.accounts)

    @property
    def severity(self) -> tuple:
        """Expired tokens first (nothing goes out), then the most failures."""
        return (not self.token_expired, not self.accounts, -(self.webhooks_refused + self.webhooks_failed
                + self.messages_failed))  # fmt: skip


def failing_shops(now=None) -> list[FailingShop]:
    """Every shop with something wrong in the last 24 hours, the worst first."""
    since = (now or timezone.now()) - WINDOW
    found: dict[int, FailingShop] = {}

    def entry(shop_id: int) -> FailingShop:
        return found.setdefault(shop_id, FailingShop(shop=None))

    for account in WhatsAppAccount.objects.filter(status=WhatsAppAccount.Status.ERROR).order_by("pk"):
        entry(account.shop_id).accounts.append(account)
    for shop_id, refused in refusals_by_shop().items():
        entry(shop_id).webhooks_refused = refused
    failed_intake = (
        WebhookIntake.objects.filter(status=WebhookIntake.Status.FAILED, received_at__gte=since, shop__isnull=False)
        .values("shop_id")
        .annotate(n=Count("id"))
    )
    for row in failed_intake:
        entry(row["shop_id"]).webhooks_failed = row["n"]
    failures = DeliveryFailure.objects.filter(occurred_at__gte=since)
    for row in failures.values("shop_id").annotate(n=Count("id")):
        entry(row["shop_id"]).messages_failed = row["n"]
    for failure in failures.order_by("shop_id", "-occurred_at").distinct("shop_id"):
        entry(failure.shop_id).last_failure_reason = failure.reason

    shops = Shop.objects.in_bulk(list(found))
    result = []
    for shop_id, failing in found.items():
        if shop_id in shops:
            failing.shop = shops[shop_id]
            result.append(failing)
    return sorted(result, key=lambda failing: (failing.severity, failing.shop.name.lower()))


def _age(seconds: float) -> str:
    if seconds < 60:
        return _("%(n)d s") % {"n": seconds}
    if seconds < 3600:
        return _("%(n)d min") % {"n": seconds // 60}
    return _("%(n).1f h") % {"n": seconds / 3600}


def page(request, context: dict) -> TemplateResponse:
    since = timezone.now() - WINDOW
    pending, oldest_age = intake_backlog()
    context.update(
        title=_("Health"),
        pending=pending,
        oldest_age=_age(oldest_age) if pending else "",
        quarantined=WebhookIntake.objects.filter(
            status=WebhookIntake.Status.QUARANTINED, received_at__gte=since
        ).count(),
        queues=sorted(queue_depths().items()),
        failing=failing_shops(),
    )
    return TemplateResponse(request, "console/health.html", context)
