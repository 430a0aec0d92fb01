"""API of the CRM's imports (shop domain, under /api/crm/)."""

urlpatterns: list = []
