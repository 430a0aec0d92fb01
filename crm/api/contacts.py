"""API of the CRM's contacts."""

urlpatterns: list = []
