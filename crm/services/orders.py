"""The one writer of orders: totals, status transitions with their history, customer notifications."""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Contact, Order, OrderItem, ShopSettings, Variant
from tenants.services.errors import ServiceError

from . import rollups
from .contacts import record, refresh_order_aggregates

logger = logging.getLogger(__name__)

S = Order.Status
TRANSITIONS: dict[str, set[str]] = {
    S.NEW: {S.CONFIRMED, S.PAID, S.CANCELLED},
    S.CONFIRMED: {S.PAID, S.SHIPPED, S.CANCELLED},
    S.PAID: {S.SHIPPED, S.COMPLETED, S.CANCELLED},
    S.SHIPPED: {S.COMPLETED},
    S.COMPLETED: set(),
    S.CANCELLED: set(),
}
NOTIFIABLE = ("confirmed", "paid", "shipped")


def rupiah(amount: int) -> str:
    return f"Rp {amount:,}".replace(",", ".")


def allowed_transitions(order: Order) -> list[str]:
    return sorted(TRANSITIONS[order.status], key=[s.value for s in S].index)


def _next_number() -> str:
    """ORD-2611-000123: month and a per-shop sequence (the shop's schema has its own id sequence)."""
    last = Order.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return f"ORD-{timezone.now():%y%m}-{last + 1:06d}"


def create_order(*, contact: Contact, items: list[dict], actor_id: int | None, discount: int = 0, shipping_fee: int = 0,
                 payment_method: str = "", channel: str = Order.Channel.WHATSAPP, notes: str = "",
                 conversation_id: int | None = None) -> Order:  # fmt: skip
    """An order with its line items; prices default to the variant's, totals are computed here."""
    if not items:
        raise ServiceError(_("Add at least one product."), field="items")
    if discount < 0 or shipping_fee < 0:
        raise ServiceError(_("Discount and shipping cannot be negative."), field="discount")
    variants = Variant.objects.select_related("product").in_bulk([item["variant_id"] for item in items])
    lines = []
    for item in items:
        variant = variants.get(item["variant_id"])
        if variant is None:
            raise ServiceError(_("A chosen product no longer exists."), field="items")
        quantity = int(item.get("quantity", 1))
        if quantity < 1:
            raise ServiceError(_("Quantities start at 1."), field="items")
        unit_price = int(item["unit_price"]) if item.get("unit_price") is not None else variant.price
        lines.append((variant, quantity, unit_price))
    subtotal = sum(quantity * price for _v, quantity, price in lines)
    if discount > subtotal:
        raise ServiceError(_("The discount is larger than the order."), field="discount")
    now = timezone.now()
    with transaction.atomic(), rollups.customer_orders_change(contact.pk):
        order = Order.objects.create(
            number=_next_number(), contact=contact, channel=channel, payment_method=payment_method, notes=notes,
            conversation_id=conversation_id, created_by_id=actor_id, subtotal=subtotal, discount=discount,
            shipping_fee=shipping_fee, total=subtotal - discount + shipping_fee, created_at=now,
            status_history=[{"status": S.NEW, "at": now.isoformat(), "by": actor_id}],
        )  # fmt: skip
        OrderItem.objects.bulk_create(
            OrderItem(order=order, variant=variant, product_id=variant.product_id, description=str(variant),
                      quantity=quantity, unit_price=price, line_total=quantity * price)
            for variant, quantity, price in lines
        )  # fmt: skip
        rollups.order_items_counted(order)
        for variant, quantity, _price in lines:
            Variant.objects.filter(pk=variant.pk).update(stock=F("stock") - quantity)
        refresh_order_aggregates(contact)
        summary = _("Order %(number)s: %(total)s") % {"number": order.number, "total": rupiah(order.total)}
        record(contact, "order.created", summary, actor_id=actor_id, data={"order_id": order.pk})
    return order


def change_status(order: Order, status: str, *, actor_id: int | None, tracking_number: str = "",
                  notify: bool = False) -> dict | None:  # fmt: skip
    """Moves an order along; returns what happened to the customer notification, if one was asked for."""
    if status not in TRANSITIONS.get(order.status, set()):
        raise ServiceError(
            _("Cannot go from %(current)s to %(wanted)s.") % {"current": order.status, "wanted": status}, field="status"
        )
    if status == S.SHIPPED and not (tracking_number or order.tracking_number):
        raise ServiceError(_("Enter the tracking number to mark the order shipped."), field="tracking_number")
    now = timezone.now()
    with transaction.atomic(), rollups.customer_orders_change(order.contact_id):
        order.status = status
        order.status_history = [*order.status_history, {"status": status, "at": now.isoformat(), "by": actor_id}]
        if tracking_number:
            order.tracking_number = tracking_number
        if status == S.PAID:
            order.payment_status = Order.PaymentStatus.PAID
        order.save(update_fields=["status", "status_history", "tracking_number", "payment_status", "updated_at"])
        if status == S.CANCELLED:
            rollups.order_items_counted(order, sign=-1)
            for item in order.items.filter(variant__isnull=False):
                Variant.objects.filter(pk=item.variant_id).update(stock=F("stock") + item.quantity)
        refresh_order_aggregates(order.contact_id)
        record(order.contact_id, "order.status", _("Order %(number)s is now %(status)s") % {
            "number": order.number, "status": order.get_status_display()}, actor_id=actor_id,
            data={"order_id": order.pk, "status": status})  # fmt: skip
    return notify_customer(order, actor_id=actor_id) if notify and status in NOTIFIABLE else None


def notify_customer(order: Order, *, actor_id: int | None) -> dict:
    """Sends the shop's chosen utility template for the order's status, through the outbound sender."""
    from whatsapp.models import Conversation, MessageTemplate
    from whatsapp.outbound import SendRefused, send_template

    settings = ShopSettings.objects.first()
    template_id = (settings.order_templates if settings else {}).get(order.status)
    template = MessageTemplate.objects.filter(pk=template_id).first() if template_id else None
    if template is None:
        return {"status": "skipped", "error_reason": _("No WhatsApp template is set for this status.")}
    conversation, _created = Conversation.objects.get_or_create(contact=order.contact)
    values = [order.contact.name or order.contact.phone or "", order.number, order.tracking_number or "-",
              rupiah(order.total)][: template.parameter_count]  # fmt: skip
    values += [""] * (template.parameter_count - len(values))
    try:
        message = send_template(conversation, template, values, author_id=actor_id)
    except SendRefused as refused:
        return {"status": "refused", "error_reason": refused.message}
    return {"status": "queued", "message_id": message.pk, "error_reason": ""}


def set_order_templates(templates: dict) -> dict:
    from whatsapp.models import MessageTemplate

    clean = {}
    for status in NOTIFIABLE:
        template_id = templates.get(status)
        if template_id is not None and not MessageTemplate.objects.filter(pk=template_id).exists():
            raise ServiceError(_("Choose one of the synced templates."), field=status)
        clean[status] = template_id
    settings, _created = ShopSettings.objects.get_or_create(
        pk=ShopSettings.objects.values_list("pk", flat=True).first()
    )
    settings.order_templates = clean
    settings.save(update_fields=["order_templates"])
    return clean
