"""Staff of a shop: invitations by email link, role changes, removal. A shop always keeps an owner."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.plans import check_limit

from .. import audit
from ..activity.services import record_activity
from ..models import MANAGER_ROLES, Invitation, Membership, Role, Shop, User
from .errors import PermissionDenied, ServiceError
from .tokens import hash_secret, new_secret


def _require_manager(actor: Membership) -> None:
    if actor.role not in MANAGER_ROLES:
        raise PermissionDenied(_("Only the shop's owners and admins can manage the team."))


def _require_may_grant(actor: Membership, role: str) -> None:
    if role not in Role.values:
        raise ServiceError(_("Choose a role: owner, admin or agent."), field="role")
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner can make someone an owner."))


def invite(actor: Membership, email: str, role: str) -> tuple[Invitation, str]:
    """Creates an invitation and emails its link; returns it with the link (shown once)."""
    _require_manager(actor)
    _require_may_grant(actor, role)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ServiceError(_("Enter a valid email address."), field="email") from exc
    shop = actor.shop
    if Membership.objects.filter(shop=shop, user__email__iexact=email).exists():
        raise ServiceError(_("This person is already in the team."), field="email")
    check_limit(shop, "staff_seats", in_use=lambda: _seats_taken(shop, replacing=email))
    now = timezone.now()
    # A new invitation replaces any still pending for the same address.
    Invitation.objects.filter(shop=shop, email=email, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    secret, digest = new_secret()
    invitation = Invitation.objects.create(
        shop=shop,
        email=email,
        role=role,
        token_hash=digest,
        invited_by=actor.user,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    link = accept_url(shop, secret)
    send_mail(
        subject=_("You are invited to %(shop)s on Warung CRM") % {"shop": shop.name},
        message=_("%(name)s invited you to join %(shop)s as %(role)s. Accept here:\n\n%(link)s")
        % {"name": actor.user.name, "shop": shop.name, "role": invitation.get_role_display(), "link": link},
        from_email=None,
        recipient_list=[email],
    )
    record_activity(actor_id=actor.user_id, action="team.invited", summary=f"Invited {email} as {role}")
    audit.record("team.invited", actor=actor.user, shop=shop, target=f"invitation:{invitation.pk}",
                 details={"email": email, "role": role})  # fmt: skip
    return invitation, link


def accept_url(shop: Shop, secret: str) -> str:
    return f"{shop.url}/invite/{secret}"


def revoke_invitation(actor: Membership, invitation_id: int) -> None:
    _require_manager(actor)
    updated = Invitation.objects.filter(
        shop=actor.shop, pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if not updated:
        raise ServiceError(_("No such pending invitation."), code="not_found")
    record_activity(
        actor_id=actor.user_id, action="team.invitation_revoked", summary=f"Revoked invitation {invitation_id}"
    )
    audit.record("team.invitation_revoked", actor=actor.user, shop=actor.shop, target=f"invitation:{invitation_id}")


def pending_invitation(shop: Shop, secret: str) -> Invitation | None:
    invitation = Invitation.objects.filter(shop=shop, token_hash=hash_secret(secret)).first()
    return invitation if invitation is not None and invitation.is_pending else None


def accept_invitation(shop: Shop, secret: str, name: str, password: str) -> Membership:
    """Joins the invited person to the shop, creating their account if they have none."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(shop=shop, token_hash=hash_secret(secret)).first()
        if invitation is None or not invitation.is_pending:
            raise ServiceError(_("This invitation is invalid, used or expired. Ask for a new one."), code="not_found")
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            if not name.strip():
                raise ServiceError(_("Please enter your name."), field="name")
            candidate = User(email=invitation.email, name=name.strip())
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                raise ServiceError(" ".join(exc.messages), field="password") from exc
            user = User.objects.create_user(invitation.email, password, name=name.strip())
        elif not user.check_password(password):
            raise ServiceError(_("You already have a Warung CRM account: enter its password."), field="password")
        membership, _created = Membership.objects.get_or_create(
            user=user, shop=shop, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    record_activity(actor_id=user.pk, action="team.joined", summary=f"{user.email} joined as {membership.role}")
    return membership


def _locked_members(shop: Shop) -> list[Membership]:
    """Locks the shop's memberships so two concurrent demotions cannot remove the last owner."""
    return list(Membership.objects.select_for_update().filter(shop=shop).order_by("pk"))


def change_role(actor: Membership, membership_id: int, role: str) -> Membership:
    _require_manager(actor)
    _require_may_grant(actor, role)
    with transaction.atomic():
        members = _locked_members(actor.shop)
        target = next((m for m in members if m.pk == membership_id), None)
        if target is None:
            raise ServiceError(_("No such team member."), code="not_found")
        if target.role == Role.OWNER and actor.role != Role.OWNER:
            raise PermissionDenied(_("Only an owner can change an owner's role."))
        if target.role == Role.OWNER and role != Role.OWNER and _owner_count(members) == 1:
            raise ServiceError(_("A shop must keep at least one owner."), code="last_owner")
        previous = target.role
        target.role = role
        target.save(update_fields=["role"])
    record_activity(
        actor_id=actor.user_id,
        action="team.role_changed",
        summary=f"{target.user.email}: {previous} → {role}",
    )
    audit.record("team.role_changed", actor=actor.user, shop=actor.shop, target=f"membership:{target.pk}",
                 details={"email": target.user.email, "from": previous, "to": role})  # fmt: skip
    return target


def remove_member(actor: Membership, membership_id: int) -> None:
    with transaction.atomic():
        members = _locked_members(actor.shop)
        target = next((m for m in members if m.pk == membership_id), None)
        if target is None:
            raise ServiceError(_("No such team member."), code="not_found")
        leaving_self = target.pk == actor.pk
        if not leaving_self:
            _require_manager(actor)
            if target.role == Role.OWNER and actor.role != Role.OWNER:
                raise PermissionDenied(_("Only an owner can remove an owner."))
        if target.role == Role.OWNER and _owner_count(members) == 1:
            raise ServiceError(_("A shop must keep at least one owner."), code="last_owner")
        removed_id = target.pk
        target.delete()
    record_activity(actor_id=actor.user_id, action="team.removed", summary=f"Removed {target.user.email}")
    audit.record("team.removed", actor=actor.user, shop=actor.shop, target=f"membership:{removed_id}",
                 details={"email": target.user.email, "role": target.role, "left": leaving_self})  # fmt: skip


def _owner_count(members: list[Membership]) -> int:
    return sum(1 for m in members if m.role == Role.OWNER)


def _seats_taken(shop: Shop, *, replacing: str) -> int:
    """Members plus pending invitations (a new invitation to the same address replaces its old one)."""
    pending = Invitation.objects.filter(shop=shop, accepted_at__isnull=True, revoked_at__isnull=True)
    return Membership.objects.filter(shop=shop).count() + sum(
        1 for invitation in pending.exclude(email=replacing) if invitation.is_pending
    )
