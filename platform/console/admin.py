"""The operator console at /console/ on the bare platform domain (Django admin, staff only)."""

from datetime import timedelta

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import schema_context

from billing.metering import month_to_date
from billing.wallet import local_today, money
from config.redis import redis_client
from crm.models import Contact
from tenants.models import AuditEvent, Domain, Membership, Shop, User
from tenants.services import deletion
from tenants.services.errors import ServiceError
from tenants.services.lifecycle import reactivate_shop, suspend_shop
from whatsapp.channel.models import DeliveryFailure, WebhookIntake, WhatsAppAccount
from whatsapp.models import Message

from . import billing_admin, health, revenue
from .models import OperatorAction


class ConsoleSite(admin.AdminSite):
    site_header = "Warung CRM — operator console"
    site_title = "Warung CRM console"
    index_title = "Platform"
    index_template = "console/index.html"

    def get_urls(self):
        return [
            path("billing/revenue/", self.admin_view(self.revenue_view), name="billing_revenue"),
            path("billing/revenue/export/", self.admin_view(revenue.export), name="billing_revenue_export"),
            path("health/", self.admin_view(self.health_view), name="health"),
            *super().get_urls(),
        ]

    def admin_view(self, view, cacheable=False):
        """Django's admin writes a few inline styles (and our pages some style attributes): the console allows
        inline styles, never inline scripts (the rest of the Content-Security-Policy stays as in settings)."""
        return csp_replace({"style-src": [SELF, UNSAFE_INLINE]})(super().admin_view(view, cacheable))

    def revenue_view(self, request):
        return revenue.page(request, self.each_context(request))

    def health_view(self, request):
        return health.page(request, self.each_context(request))

    def has_permission(self, request):
        # Only platform staff, and only on the platform's own domain.
        tenant = getattr(request, "tenant", None)
        on_platform = tenant is None or tenant.schema_name == "public"
        return on_platform and request.user.is_active and request.user.is_staff


console_site = ConsoleSite(name="console")
billing_admin.register(console_site)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain"]
    can_delete = False


class ActiveShopFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(s.value, s.label) for s in Shop.Status if s != Shop.Status.POOL]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Shop, site=console_site)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "deletion_due_at", "plan", "member_count", "created_at"]
    list_filter = [ActiveShopFilter, "plan", "created_at"]
    search_fields = ["name", "slug", "memberships__user__email"]
    billing_fields = ["subscription", "whatsapp_balance", "spent_this_month", "margin_this_month"]
    readonly_fields = [
        "schema_name",
        "slug",
        "created_at",
        "suspended_at",
        "suspended_reason",
        "deletion_due_at",
        "deleted_at",
        "status",
        "usage",
        *billing_fields,
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "status",
                    "plan",
                    "time_zone",
                    "locale",
                    "currency",
                    "schema_name",
                    "created_at",
                    "suspended_at",
                    "suspended_reason",
                    "deletion_due_at",
                    "deleted_at",
                    "usage",
                ]
            },
        ),
        (gettext_lazy("Billing"), {"fields": billing_fields}),
    ]
    inlines = [DomainInline, MembershipInline]
    actions = ["suspend", "reactivate", "cancel_deletion"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).listed().annotate(_members=Count("memberships", distinct=True))

    @admin.display(description="usage, last 30 days")
    def usage(self, shop):
        """Read from the shop's own schema, on the detail page only."""
        if shop.status == Shop.Status.DELETED:
            return "deleted: its schema was dropped"
        since = timezone.now() - timedelta(days=30)
        with schema_context(shop.schema_name):
            messages_in = Message.objects.filter(direction="in", created_at__gte=since).count()
            messages_out = Message.objects.filter(direction="out", created_at__gte=since).count()
            contacts = Contact.objects.count()
        return f"{messages_in} messages in, {messages_out} out; {contacts} contacts in all"

    @admin.display(description=gettext_lazy("subscription"))
    def subscription(self, shop):
        account = getattr(shop, "billing", None)
        if account is None or not account.subscription_status:
            return gettext_lazy("No subscription")
        status = account.get_subscription_status_display()
        if account.past_due_since:
            return _("%(status)s since %(date)s") % {"status": status, "date": f"{account.past_due_since:%Y-%m-%d}"}
        return status

    @admin.display(description=gettext_lazy("WhatsApp balance"))
    def whatsapp_balance(self, shop):
        account = getattr(shop, "billing", None)
        if account is None:
            return money(0, shop.currency)
        return _("%(balance)s (%(reserved)s reserved)") % {
            "balance": money(account.balance, account.currency),
            "reserved": money(account.reserved, account.currency),
        }

    @admin.display(description=gettext_lazy("WhatsApp spend this month"))
    def spent_this_month(self, shop):
        usage = self._month_to_date(shop)
        return _("%(amount)s for %(count)d messages") % {
            "amount": money(usage["price"], shop.currency),
            "count": usage["messages"],
        }

    @admin.display(description=gettext_lazy("margin this month"))
    def margin_this_month(self, shop):
        usage = self._month_to_date(shop)
        margin = usage["price"] - usage["meta_cost"]
        return _("%(margin)s over %(cost)s Meta cost") % {
            "margin": money(margin, shop.currency),
            "cost": money(usage["meta_cost"], shop.currency),
        }

    def _month_to_date(self, shop) -> dict:
        """Read once per page from the rollups, for the two fields that show it."""
        if not hasattr(shop, "_month_to_date"):
            shop._month_to_date = month_to_date(shop.pk, local_today(shop))["total"]
        return shop._month_to_date

    @admin.display(description="members", ordering="_members")
    def member_count(self, shop):
        return shop._members

    def has_add_permission(self, request):
        return False  # shops come from signup

    def has_delete_permission(self, request, obj=None):
        return False  # owners ask for deletion in their shop; the grace period and sweep do the rest

    @admin.action(description="Suspend selected shops")
    def suspend(self, request, queryset):
        for shop in queryset:
            suspend_shop(shop, request.user, reason="Suspended from the operator console")
        self.message_user(request, f"Suspended {queryset.count()} shop(s).", messages.WARNING)

    @admin.action(description="Cancel the pending deletion of selected shops")
    def cancel_deletion(self, request, queryset):
        cancelled = 0
        for shop in queryset.filter(deletion_due_at__isnull=False, status__in=deletion.SCHEDULED):
            try:
                deletion.cancel_deletion(shop, request.user, by_operator=True)
                cancelled += 1
            except ServiceError:
                continue  # deleted meanwhile
        self.message_user(request, f"Cancelled the deletion of {cancelled} shop(s).", messages.SUCCESS)

    @admin.action(description="Reactivate selected shops")
    def reactivate(self, request, queryset):
        for shop in queryset:
            reactivate_shop(shop, request.user)
        self.message_user(request, f"Reactivated {queryset.count()} shop(s).", messages.SUCCESS)


@admin.register(User, site=console_site)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "shop_count", "date_joined"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "name", "phone", "password"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]
    filter_horizontal = []

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _shops=Count("memberships", filter=Q(memberships__shop__status__in=["trial", "active", "suspended"]))
            )
        )

    @admin.display(description="shops", ordering="_shops")
    def shop_count(self, user):
        return user._shops


@admin.register(OperatorAction, site=console_site)
class OperatorActionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "operator", "action", "shop"]
    list_filter = ["action"]
    search_fields = ["shop__name", "shop__slug", "operator__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent, site=console_site)
class AuditEventAdmin(admin.ModelAdmin):
    """Every shop's sensitive actions, deleted shops included; read-only."""

    list_display = ["created_at", "shop", "action", "actor_email", "target", "ip"]
    list_filter = ["action", "created_at"]
    search_fields = ["shop__slug", "shop__name", "actor_email", "target"]
    list_select_related = ["shop"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WhatsAppAccount, site=console_site)
class WhatsAppAccountAdmin(admin.ModelAdmin):
    """Connected numbers and their health; credentials are never shown."""

    list_display = ["display_phone_number", "shop", "status", "last_error_code", "last_error_reason", "last_checked_at"]
    list_filter = ["status"]
    search_fields = ["display_phone_number", "phone_number_id", "shop__name", "shop__slug"]
    fields = [
        "shop",
        "phone_number_id",
        "waba_id",
        "display_phone_number",
        "verified_name",
        "quality_rating",
        "throughput_level",
        "status",
        "last_error_code",
        "last_error_reason",
        "last_checked_at",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


@admin.register(WebhookIntake, site=console_site)
class WebhookIntakeAdmin(admin.ModelAdmin):
    """Webhooks as they came in: quarantined ones (unknown numbers) and any not processed yet."""

    list_display = ["received_at", "shop", "status", "phone_number_ids", "attempts", "last_error"]
    list_filter = ["status", "received_at"]
    search_fields = ["shop__slug"]
    exclude = ["body"]
    readonly_fields = [
        "received_at",
        "shop",
        "status",
        "phone_number_ids",
        "attempts",
        "processed_at",
        "last_error",
        "payload",
    ]

    @admin.display(description="payload")
    def payload(self, intake):
        return bytes(intake.body).decode("utf-8", "replace")[:20000]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        counters = {k.decode(): int(v) for k, v in redis_client().hgetall("warung:webhooks").items()}
        if counters:
            self.message_user(
                request,
                "Webhooks since the counters started: " + ", ".join(f"{k} {v}" for k, v in sorted(counters.items())),
            )
        return super().changelist_view(request, extra_context)


@admin.register(DeliveryFailure, site=console_site)
class DeliveryFailureAdmin(admin.ModelAdmin):
    """Every shop's failed messages, with WhatsApp's code and the reason shown to the shop."""

    list_display = ["occurred_at", "shop", "error_code", "reason", "message_id"]
    list_filter = ["error_code", "occurred_at"]
    search_fields = ["shop__slug", "shop__name", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
