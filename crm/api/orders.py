"""API of the CRM's orders."""

urlpatterns: list = []
