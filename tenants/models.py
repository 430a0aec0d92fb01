"""Shops (tenants), their domains, and the people who work in them. All in the public schema."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name


class UserManager(BaseUserManager):
    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, email: str) -> "User":
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Shop access comes from Membership; `is_staff` means platform operator."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform operator: may use the console.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email


class ShopQuerySet(models.QuerySet):
    def shops(self) -> "ShopQuerySet":
        """Real shops with a schema: neither the platform's own public tenant, pool schemas nor deleted shops."""
        return self.listed().exclude(status=Shop.Status.DELETED)

    def listed(self) -> "ShopQuerySet":
        """Every shop the operator sees, deleted ones included (their billing and audit rows stay)."""
        return self.exclude(schema_name=get_public_schema_name()).exclude(status=Shop.Status.POOL)


class Shop(TenantMixin):
    """A tenant: one PostgreSQL schema holding the shop's contacts, orders, conversations..."""

    class Status(models.TextChoices):
        POOL = "pool", "Ready schema (not yet a shop)"
        TRIAL = "trial", "Trial"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        DELETION_PENDING = "deletion_pending", "Deletion pending"
        DELETED = "deleted", "Deleted"

    class Locale(models.TextChoices):
        INDONESIAN = "id", "Bahasa Indonesia"
        ENGLISH = "en", "English"

    name = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=40, unique=True, null=True, blank=True, help_text="Its subdomain.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.POOL, db_index=True)
    time_zone = models.CharField(max_length=64, default="Asia/Jakarta")
    locale = models.CharField(max_length=5, choices=Locale.choices, default=Locale.INDONESIAN)
    currency = models.CharField(max_length=3, default="IDR")
    plan = models.ForeignKey("billing.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="shops")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=200, blank=True)
    deletion_due_at = models.DateTimeField(null=True, blank=True, help_text="When the pending deletion runs")
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="When its schema was dropped")

    # Schemas are made by tenants.provisioning (pool), never as a side effect of save().
    auto_create_schema = False
    auto_drop_schema = False

    objects = ShopQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name or self.schema_name

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def is_deletion_pending(self) -> bool:
        return self.status == self.Status.DELETION_PENDING

    @property
    def primary_host(self) -> str:
        return f"{self.slug}.{settings.PLATFORM_HOST}"

    @property
    def url(self) -> str:
        return f"{settings.PLATFORM_SCHEME}://{self.slug}.{settings.PLATFORM_DOMAIN}"


class Domain(DomainMixin):
    """A host name that routes to a shop (`{slug}.{PLATFORM_HOST}`, without port)."""


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"


MANAGER_ROLES = (Role.OWNER, Role.ADMIN)


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="membership_user_shop_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop} ({self.role})"


class Invitation(models.Model):
    """An emailed link that lets someone join a shop with a role. Only the token's hash is kept."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} → {self.shop} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ApiToken(models.Model):
    """A revocable key for integrations, valid on one shop only. Only the hash is kept."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    # What it may do, e.g. ["contacts:read", "messages:send"] (tenants/scopes.py).
    scopes = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginHandoff(models.Model):
    """One-time, short-lived ticket that carries a login from the portal to the shop's own domain."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"handoff for {self.user_id} to {self.shop_id}"


class AuditEvent(models.Model):
    """A sensitive action in a shop (credentials, exports, roles, broadcasts, erasures, deletion).

    Public, so it outlives the shop's schema and the operator sees every shop's. Written only by
    tenants.audit.record; `details` never carries secrets or customers' phone numbers.
    """

    shop = models.ForeignKey(Shop, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_email = models.CharField(max_length=254, blank=True, help_text="As it was when they acted")
    action = models.CharField(max_length=60, db_index=True)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at", "-id"], name="audit_shop_time_idx")]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_email or 'the platform'}"
