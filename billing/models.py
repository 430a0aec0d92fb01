"""Plans live in the public schema; the billing issue adds prices, limits and Stripe."""

from django.db import models


class Plan(models.Model):
    """A subscription plan a shop is on. Prices are integer minor units (IDR has none)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_price_idr = models.PositiveBigIntegerField(default=0)
    trial_days = models.PositiveSmallIntegerField(default=0)
    staff_seats = models.PositiveSmallIntegerField(default=3)
    is_trial_plan = models.BooleanField(default=False, help_text="New shops start on this plan.")

    class Meta:
        ordering = ["monthly_price_idr"]

    def __str__(self) -> str:
        return self.name
