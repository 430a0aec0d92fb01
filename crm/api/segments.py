"""API of the CRM's segments (shop domain, under /api/crm/)."""

urlpatterns: list = []
