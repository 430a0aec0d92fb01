"""Deleting a shop: the owner asks (with their password), a grace period follows, then its schema is dropped.

During the grace period (SHOP_DELETION_GRACE_DAYS) the shop is read-only for its staff: they can still
read and export everything, and the owner (or an operator) can cancel; incoming WhatsApp messages are
still received, so a cancelled deletion has lost nothing. Sends and changes are refused
(tenants.middleware), because whatever is written then is about to be destroyed.

When the period is over, the hourly sweep (tenants.tasks.delete_due_shops) drops the schema with every
contact, message and order in it (DROP SCHEMA … CASCADE, django-tenants' own drop), deletes its domains
(the subdomain answers "shop not found"), its WhatsApp number (webhooks for it are quarantined as unknown),
its memberships, pending invitations and API tokens, the raw webhooks still stored for it and the files of
its exports. The shop row
stays, with status `deleted`, so that the public rows that refer to it stay too: the billing ledger,
balance entries, invoices and the audit log.
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit
from ..models import ApiToken, Domain, Invitation, Membership, Role, Shop, User
from .errors import PermissionDenied, ServiceError

# A shop is scheduled for deletion while it has a due date: pending, or suspended by an operator meanwhile (a
# suspension does not undo the owner's request; reactivation returns it to pending).
SCHEDULED = (Shop.Status.DELETION_PENDING, Shop.Status.SUSPENDED)


def request_deletion(actor: Membership, password: str) -> Shop:
    """The owner's request: the shop becomes `deletion_pending` until its due date."""
    if actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner can delete the shop."))
    if not password or not actor.user.check_password(password):
        raise ServiceError(_("The password is not correct."), field="password")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=actor.shop_id)
        if shop.status == Shop.Status.DELETION_PENDING:
            raise ServiceError(_("This shop is already scheduled for deletion."), code="deletion_pending")
        if shop.status not in (Shop.Status.TRIAL, Shop.Status.ACTIVE):
            raise ServiceError(_("This shop cannot be deleted now."), code="wrong_status")
        shop.status = Shop.Status.DELETION_PENDING
        shop.deletion_due_at = timezone.now() + timedelta(days=settings.SHOP_DELETION_GRACE_DAYS)
        shop.save(update_fields=["status", "deletion_due_at"])
        audit.record("shop.deletion_requested", actor=actor.user, shop=shop,
                     details={"due_at": shop.deletion_due_at.isoformat()})  # fmt: skip
    _tell_owners(shop, actor.user)
    return shop


def cancel_deletion(shop: Shop, actor: User, *, by_operator: bool = False) -> Shop:
    """By an owner on the shop's domain, or an operator in the console, any time before the sweep."""
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        if locked.deletion_due_at is None or locked.status not in SCHEDULED:
            raise ServiceError(_("This shop is not scheduled for deletion."), code="not_pending")
        if locked.status == Shop.Status.DELETION_PENDING:  # a suspended shop stays suspended
            locked.status = Shop.Status.ACTIVE if locked.plan and not locked.plan.is_trial_plan else Shop.Status.TRIAL
        locked.deletion_due_at = None
        locked.save(update_fields=["status", "deletion_due_at"])
        audit.record("shop.deletion_cancelled", actor=actor, shop=locked, details={"by_operator": by_operator})
    return locked


def delete_due_shops() -> list[str]:
    """The sweep: every shop whose grace period is over. Returns the schemas dropped."""
    due = Shop.objects.filter(status__in=SCHEDULED, deletion_due_at__lte=timezone.now())
    return [schema for pk in due.values_list("pk", flat=True).order_by("pk") if (schema := delete_now(pk))]


def delete_now(shop_id: int) -> str | None:
    """Drops one due shop in one transaction (a cancellation that won the lock keeps it); its schema name."""
    from tenants.portability.services import expire_exports
    from whatsapp.channel import intake
    from whatsapp.channel.models import WebhookIntake, WhatsAppAccount

    now = timezone.now()
    with transaction.atomic():
        shop = (
            Shop.objects.select_for_update().filter(pk=shop_id, status__in=SCHEDULED, deletion_due_at__lte=now).first()
        )
        if shop is None:
            return None
        numbers = list(WhatsAppAccount.objects.filter(shop=shop).values_list("phone_number_id", flat=True))
        WhatsAppAccount.objects.filter(shop=shop).delete()
        WebhookIntake.objects.filter(shop=shop).delete()  # raw customer messages
        Domain.objects.filter(tenant=shop).delete()
        members = Membership.objects.filter(shop=shop).count()
        Membership.objects.filter(shop=shop).delete()
        Invitation.objects.filter(shop=shop, accepted_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
        ApiToken.objects.filter(shop=shop, revoked_at__isnull=True).update(revoked_at=now)
        expire_exports(shop)  # its exported files hold everything the schema held
        shop._drop_schema(force_drop=True)
        shop.status = Shop.Status.DELETED
        shop.deleted_at = now
        shop.save(update_fields=["status", "deleted_at"])
        audit.record("shop.deleted", shop=shop, target=shop.schema_name,
                     details={"members_removed": members, "whatsapp_numbers_removed": len(numbers)})  # fmt: skip
        transaction.on_commit(lambda: [intake.forget_route(number) for number in numbers])
    return shop.schema_name


def _tell_owners(shop: Shop, requested_by: User) -> None:
    """Every owner learns of the request and its date, so one owner cannot delete the shop unnoticed."""
    owners = list(Membership.objects.filter(shop=shop, role=Role.OWNER).values_list("user__email", flat=True))
    values = {"name": requested_by.name, "shop": shop.name, "date": f"{shop.deletion_due_at:%Y-%m-%d %H:%M}",
              "url": shop.url}  # fmt: skip
    send_mail(
        subject=_("%(shop)s will be deleted on %(date)s") % values,
        message=_(
            "%(name)s asked to delete %(shop)s. On %(date)s (UTC) its contacts, conversations and orders will be "
            "erased for good. Until then an owner can cancel in Settings > Shop, at %(url)s."
        )
        % values,
        from_email=None,
        recipient_list=owners,
    )
