"""Who may act in a shop: logins bound to one shop's domain, the signup handoff, API tokens, password reset."""

from datetime import timedelta

from django.contrib.auth import authenticate, login
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from .. import audit
from ..activity.services import record_activity
from ..models import ApiToken, LoginHandoff, Membership, Shop, User
from ..scopes import ALL_SCOPES
from .errors import ServiceError
from .tokens import hash_secret, new_secret

SESSION_SHOP_KEY = "shop_id"
HANDOFF_TTL = timedelta(minutes=2)
API_TOKEN_PREFIX = "wrg_"


def membership_for(user: User, shop: Shop) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, shop=shop, user__is_active=True).first()


def log_in(request: HttpRequest, user: User, shop: Shop) -> None:
    """Starts a session that is valid on this shop's domain only."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_SHOP_KEY] = shop.pk


def log_in_with_password(request: HttpRequest, shop: Shop, email: str, password: str) -> Membership:
    user = authenticate(request, email=email.strip().lower(), password=password)
    membership = membership_for(user, shop) if user is not None else None
    if membership is None:
        # Same answer for "no such user" and "not in this shop": no account probing.
        raise ServiceError(_("Email or password is incorrect."), code="invalid_credentials")
    log_in(request, user, shop)
    return membership


# --- signup handoff: the portal's session cannot cross to the shop's host, a one-time ticket can.


def create_login_handoff(user: User, shop: Shop) -> str:
    secret, digest = new_secret()
    LoginHandoff.objects.create(token_hash=digest, user=user, shop=shop, expires_at=timezone.now() + HANDOFF_TTL)
    return secret


def redeem_login_handoff(request: HttpRequest, shop: Shop, secret: str) -> bool:
    now = timezone.now()
    # The conditional UPDATE makes the ticket single-use even under concurrent redemption.
    claimed = LoginHandoff.objects.filter(
        token_hash=hash_secret(secret), shop=shop, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not claimed:
        return False
    handoff = LoginHandoff.objects.select_related("user").get(token_hash=hash_secret(secret))
    log_in(request, handoff.user, shop)
    return True


# --- API tokens for integrations


def create_api_token(shop: Shop, actor: User, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """A token that may do exactly `scopes` (tenants/scopes.py) on this shop."""
    name = name.strip()
    if not name:
        raise ServiceError(_("Give the token a name, for example the tool that will use it."), field="name")
    if not scopes:
        raise ServiceError(_("Choose at least one thing this token may do."), field="scopes")
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ServiceError(_("Unknown permission: %(scope)s.") % {"scope": ", ".join(unknown)}, field="scopes")
    secret, digest = new_secret(API_TOKEN_PREFIX)
    token = ApiToken.objects.create(
        shop=shop, name=name[:80], prefix=secret[: len(API_TOKEN_PREFIX) + 8], token_hash=digest, created_by=actor,
        scopes=[scope for scope in ALL_SCOPES if scope in scopes],
    )  # fmt: skip
    record_activity(
        actor_id=actor.pk,
        action="api_token.created",
        summary=f"API token “{token.name}” created ({', '.join(token.scopes)})",
    )
    audit.record("api_token.created", actor=actor, shop=shop, target=f"api_token:{token.pk}",
                 details={"name": token.name, "prefix": token.prefix, "scopes": token.scopes})  # fmt: skip
    return token, secret


def revoke_api_token(shop: Shop, actor: User, token_id: int) -> None:
    token = ApiToken.objects.filter(shop=shop, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise ServiceError(_("No such token."), code="not_found")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_activity(actor_id=actor.pk, action="api_token.revoked", summary=f"API token “{token.name}” revoked")
    audit.record("api_token.revoked", actor=actor, shop=shop, target=f"api_token:{token.pk}",
                 details={"name": token.name, "prefix": token.prefix, "scopes": token.scopes})  # fmt: skip


def authenticate_api_token(shop: Shop, secret: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("created_by")
        .filter(token_hash=hash_secret(secret), shop=shop, revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


# --- password reset by email


def send_password_reset(shop: Shop, email: str) -> None:
    """Emails a reset link if `email` belongs to a member of `shop`; silent otherwise."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True, memberships__shop=shop).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = f"{shop.url}/reset-password/{uid}/{default_token_generator.make_token(user)}/"
    send_mail(
        subject=_("Reset your Warung CRM password"),
        message=_(
            "Someone asked to reset the password of %(email)s for %(shop)s. "
            "Open this link to choose a new one:\n\n%(link)s\n\nIf it was not you, ignore this email."
        )
        % {"email": user.email, "shop": shop.name, "link": link},
        from_email=None,
        recipient_list=[user.email],
    )


def reset_password(uid: str, token: str, new_password: str) -> User:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uid))))
    except (ValueError, TypeError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise ServiceError(_("This reset link is invalid or has expired. Ask for a new one."), field="token")
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="new_password") from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record("user.password_reset", actor=user, target=f"user:{user.pk}")  # in the shop whose link it was
    return user
