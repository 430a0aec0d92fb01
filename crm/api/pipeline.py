"""API of the CRM's pipeline (shop domain, under /api/crm/)."""

urlpatterns: list = []
