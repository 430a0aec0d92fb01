from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    """A shop's data taken out whole (export) and put back as a new shop (restore)."""

    name = "tenants.portability"
    label = "portability"
    verbose_name = "Shop export and restore"
