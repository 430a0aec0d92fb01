"""API of the CRM's catalog."""

urlpatterns: list = []
