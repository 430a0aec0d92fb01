"""Signup: a shop owner gets a working shop on its own subdomain in well under a second."""

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.plans import trial_plan

from .. import provisioning
from ..models import Domain, Membership, Role, Shop, User
from .errors import ServiceError

logger = logging.getLogger(__name__)

SUBDOMAIN_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,28}[a-z0-9])$")
RESERVED_SUBDOMAINS = frozenset(
    [
        "www",
        "api",
        "admin",
        "app",
        "apps",
        "mail",
        "email",
        "smtp",
        "imap",
        "pop",
        "static",
        "media",
        "assets",
        "cdn",
        "console",
        "portal",
        "dashboard",
        "help",
        "support",
        "docs",
        "status",
        "blog",
        "billing",
        "auth",
        "login",
        "signup",
        "account",
        "accounts",
        "webhook",
        "webhooks",
        "ws",
        "ftp",
        "ns",
        "ns1",
        "ns2",
        "dev",
        "test",
        "staging",
        "root",
        "warung",
    ]
)


@dataclass(frozen=True)
class SignupForm:
    shop_name: str
    subdomain: str
    owner_name: str
    email: str
    password: str
    phone: str = ""


class SignupInvalid(ServiceError):
    """Field-level problems, all at once: {field: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def subdomain_problem(subdomain: str) -> str | None:
    """Why `subdomain` cannot be had, or None if it is free (a hint: signup re-checks under lock)."""
    if not SUBDOMAIN_PATTERN.match(subdomain):
        return _(
            "Use 3 to 30 characters: lowercase letters, digits and hyphens, starting and ending with a letter or digit."
        )
    if subdomain in RESERVED_SUBDOMAINS:
        return _("This address is reserved. Please choose another one.")
    if Shop.objects.filter(slug=subdomain).exists():
        return _("This address is already taken.")
    return None


def normalise_phone(raw: str) -> str:
    """E.164, Indonesia as the default region; raises ValueError with a readable message."""
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("This is not a phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("This phone number is not valid."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _validate(form: SignupForm) -> tuple[dict[str, list[str]], User | None, str]:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not form.shop_name.strip():
        add("shop_name", _("Please enter your shop's name."))
    elif len(form.shop_name.strip()) > 100:
        add("shop_name", _("Use at most 100 characters."))
    if problem := subdomain_problem(form.subdomain):
        add("subdomain", problem)
    if not form.owner_name.strip():
        add("owner_name", _("Please enter your name."))
    email = form.email.strip().lower()
    existing_user = None
    try:
        validate_email(email)
    except ValidationError:
        add("email", _("Enter a valid email address."))
    else:
        existing_user = User.objects.filter(email__iexact=email).first()
    if existing_user is not None:
        # The same person may own several shops, but must prove it is them.
        if not existing_user.check_password(form.password):
            add("email", _("This email already has an account. Enter its password, or use another email."))
    else:
        try:
            validate_password(form.password, User(email=email, name=form.owner_name))
        except ValidationError as exc:
            for message in exc.messages:
                add("password", message)
    phone = ""
    if form.phone.strip():
        try:
            phone = normalise_phone(form.phone)
        except ValueError as exc:
            add("phone", str(exc))
    return errors, existing_user, phone


def sign_up(form: SignupForm) -> tuple[Shop, User]:
    """Creates the shop and its owner in one transaction: it all exists afterwards, or none of it."""
    form = SignupForm(**{**form.__dict__, "subdomain": form.subdomain.strip().lower()})
    # Argon2 runs in C without the GIL: hash while the form is checked and the shop claimed and filled in.
    hashing = _hasher.submit(make_password, form.password)
    errors, existing_user, phone = _validate(form)
    if errors:
        raise SignupInvalid(errors)
    if provisioning.ready_count() == 0:
        logger.warning("shop pool empty at signup; building a schema on the request path")
        provisioning.create_ready_schema()
    try:
        with transaction.atomic():
            shop = provisioning.claim_ready_schema()
            if shop is None:
                raise ServiceError(_("We are very busy right now. Please try again in a moment."), code="pool_empty")
            shop.name = form.shop_name.strip()
            shop.slug = form.subdomain
            shop.status = Shop.Status.TRIAL
            shop.plan = trial_plan()
            shop.save()
            Domain.objects.create(domain=f"{form.subdomain}.{settings.PLATFORM_HOST}", tenant=shop, is_primary=True)
            if existing_user is None:
                owner = User(email=form.email.strip().lower(), name=form.owner_name.strip(), phone=phone)
                owner.password = hashing.result()
                owner.save()
            else:
                owner = existing_user
            Membership.objects.create(user=owner, shop=shop, role=Role.OWNER)
    except IntegrityError as exc:
        # Lost a race for the same subdomain (or email) to a concurrent signup.
        logger.info("signup lost a uniqueness race: %s", exc.__class__.__name__)
        if Shop.objects.filter(slug=form.subdomain).exists():
            raise SignupInvalid({"subdomain": [_("This address is already taken.")]}) from exc
        raise SignupInvalid(
            {"email": [_("This email already has an account. Enter its password, or use another email.")]}
        ) from exc
    transaction.on_commit(_queue_pool_refill)
    return shop, owner


_hasher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="signup-hash")


def _queue_pool_refill() -> None:
    from ..tasks import refill_shop_pool

    try:
        refill_shop_pool.delay()
    except Exception:  # the broker being down must not fail a signup; beat refills anyway
        logger.exception("could not queue pool refill")
