from django.apps import AppConfig


class ActivityConfig(AppConfig):
    """The shop's own log of who did what (lives in each shop's schema)."""

    name = "tenants.activity"
    label = "activity"
    verbose_name = "Shop activity"
