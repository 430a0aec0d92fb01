"""Billing in the operator console: plans and the rate card are edited here; money is only ever shown.

Balances change only through billing.wallet, subscriptions only through Stripe's webhooks, and the
ledger only through metering, so those admins are read-only.
"""

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import (
    BillingAccount,
    FxRate,
    LedgerEntry,
    MeterReport,
    Plan,
    RateCardEntry,
    StripeEvent,
    UsageRollup,
)
from billing.ratecard import import_meta_csv
from billing.wallet import money
from tenants.services.errors import ServiceError

SHOWN_IMPORT_ERRORS = 20


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows: an exact count of a table with millions of rows takes seconds."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP].count()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to operators, written only by the billing services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "monthly_price_idr",
        "monthly_price_usd_cents",
        "usage_billing",
        "whatsapp_markup_percent",
        "staff_seats",
        "contact_limit",
        "broadcasts_per_month",
        "automation_rules",
        "trial_days",
        "is_public",
        "is_trial_plan",
    ]
    list_filter = ["usage_billing", "is_public"]
    fieldsets = [
        (None, {"fields": ["name", "code", "is_public", "is_trial_plan", "trial_days"]}),
        (gettext_lazy("Price"), {"fields": ["monthly_price_idr", "monthly_price_usd_cents"]}),
        (
            gettext_lazy("Limits"),
            {"fields": ["staff_seats", "contact_limit", "broadcasts_per_month", "automation_rules", "features"]},
        ),
        (gettext_lazy("WhatsApp usage"), {"fields": ["usage_billing", "whatsapp_markup_percent"]}),
        (
            gettext_lazy("Stripe"),
            {
                "fields": ["stripe_price_idr", "stripe_price_usd"],
                "description": gettext_lazy(
                    "Created on the first checkout. A changed monthly price clears its Stripe price, so new "
                    "subscriptions get the new price; existing ones keep theirs."
                ),
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        """A Stripe price cannot change its amount, so a new monthly price needs a new Stripe price."""
        if change:
            for price_field, stripe_field in (
                ("monthly_price_idr", "stripe_price_idr"),
                ("monthly_price_usd_cents", "stripe_price_usd"),
            ):
                if price_field in form.changed_data and stripe_field not in form.changed_data:
                    setattr(obj, stripe_field, "")
        super().save_model(request, obj, form, change)


class RateCardImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Meta's rate card (CSV)"))
    effective_from = forms.DateField(
        label=gettext_lazy("Effective from"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=[("USD", "USD"), ("IDR", "IDR")])


class RateCardEntryAdmin(admin.ModelAdmin):
    list_display = ["market", "market_name", "category", "price", "currency", "effective_from"]
    list_filter = ["category", "currency", "effective_from", "market"]
    search_fields = ["market", "market_name"]
    ordering = ["market", "category", "-effective_from"]
    change_list_template = "console/billing/ratecardentry/change_list.html"

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="billing_ratecardentry_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Meta's CSV card for a date: good lines are written, bad ones reported by line number."""
        if not self.has_add_permission(request):
            return redirect("console:index")
        form = RateCardImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                written, errors = import_meta_csv(
                    form.cleaned_data["file"].read(), form.cleaned_data["effective_from"], form.cleaned_data["currency"]
                )
            except (ServiceError, UnicodeDecodeError) as error:
                form.add_error("file", getattr(error, "message", _("The file is not UTF-8 text.")))
            else:
                level = messages.WARNING if errors else messages.SUCCESS
                self.message_user(
                    request,
                    _("Imported %(count)d prices effective from %(date)s.")
                    % {"count": written, "date": form.cleaned_data["effective_from"].isoformat()},
                    level,
                )
                for error in errors[:SHOWN_IMPORT_ERRORS]:
                    self.message_user(request, error, messages.ERROR)
                if len(errors) > SHOWN_IMPORT_ERRORS:
                    self.message_user(
                        request,
                        _("…and %(count)d more lines with errors.") % {"count": len(errors) - SHOWN_IMPORT_ERRORS},
                        messages.ERROR,
                    )
                return redirect(reverse("console:billing_ratecardentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import Meta's rate card CSV"),
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "console/billing/ratecard_import.html", context)


class FxRateAdmin(admin.ModelAdmin):
    list_display = ["base", "quote", "rate", "effective_from"]
    list_filter = ["base", "quote"]
    ordering = ["base", "quote", "-effective_from"]


class LedgerEntryAdmin(ReadOnlyAdmin):
    """Ten million rows and more: an exact wamid search, cheap filters, no full counts."""

    list_display = [
        "occurred_at",
        "day",
        "shop",
        "wamid",
        "category",
        "market",
        "pricing_type",
        "billable",
        "meta_cost",
        "price",
        "currency",
    ]
    list_filter = ["category", "pricing_type", "billable", "day"]
    list_select_related = ["shop"]
    search_fields = ["wamid"]
    search_help_text = gettext_lazy("The exact WhatsApp message id (wamid.…).")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice would read the whole ledger
    paginator = CappedCountPaginator

    def get_search_results(self, request, queryset, search_term):
        """An exact match uses the unique index; a substring search would read the whole ledger."""
        search_term = search_term.strip()
        return (queryset.filter(wamid=search_term) if search_term else queryset), False


class UsageRollupAdmin(ReadOnlyAdmin):
    list_display = ["day", "shop", "category", "messages", "billable_messages", "meta_cost", "price", "currency"]
    list_filter = ["category", "currency", "day"]
    list_select_related = ["shop"]
    search_fields = ["=shop__slug"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    ordering = ["-day", "shop_id", "category"]


class BillingAccountAdmin(ReadOnlyAdmin):
    list_display = [
        "shop",
        "subscription_status",
        "currency",
        "balance_shown",
        "reserved_shown",
        "cap_shown",
        "past_due_since",
        "stripe_customer_id",
    ]
    list_filter = ["subscription_status", "currency", "auto_recharge"]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "=shop__slug", "=stripe_customer_id", "=stripe_subscription_id"]
    fieldsets = [
        (None, {"fields": ["shop", "currency"]}),
        (
            gettext_lazy("Subscription"),
            {
                "fields": [
                    "subscription_status",
                    "current_period_end",
                    "cancel_at_period_end",
                    "past_due_since",
                    "stripe_customer_id",
                    "stripe_subscription_id",
                ]
            },
        ),
        (
            gettext_lazy("WhatsApp balance"),
            {
                "fields": [
                    "balance_shown",
                    "reserved_shown",
                    "cap_shown",
                    "cap_alert_month",
                    "cap_alert_percent",
                    "auto_recharge",
                    "auto_recharge_below",
                    "auto_recharge_amount",
                    "auto_recharge_error",
                ]
            },
        ),
    ]
    readonly_fields = [name for _title, section in fieldsets for name in section["fields"]]

    @admin.display(description=gettext_lazy("balance"), ordering="balance")
    def balance_shown(self, account):
        return money(account.balance, account.currency)

    @admin.display(description=gettext_lazy("reserved"), ordering="reserved")
    def reserved_shown(self, account):
        return money(account.reserved, account.currency)

    @admin.display(description=gettext_lazy("monthly cap"), ordering="monthly_cap")
    def cap_shown(self, account):
        return money(account.monthly_cap, account.currency) if account.monthly_cap is not None else "—"


class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id", "created"]
    list_filter = ["type"]
    search_fields = ["=event_id"]
    ordering = ["-received_at"]


class MeterReportAdmin(ReadOnlyAdmin):
    list_display = ["day", "shop", "value", "identifier", "reported_at", "error"]
    list_filter = [("reported_at", admin.EmptyFieldListFilter), "day"]
    list_select_related = ["shop"]
    search_fields = ["=identifier", "=shop__slug"]
    ordering = ["-day", "shop_id"]


def register(site: admin.AdminSite) -> None:
    site.register(Plan, PlanAdmin)
    site.register(RateCardEntry, RateCardEntryAdmin)
    site.register(FxRate, FxRateAdmin)
    site.register(LedgerEntry, LedgerEntryAdmin)
    site.register(UsageRollup, UsageRollupAdmin)
    site.register(BillingAccount, BillingAccountAdmin)
    site.register(StripeEvent, StripeEventAdmin)
    site.register(MeterReport, MeterReportAdmin)
