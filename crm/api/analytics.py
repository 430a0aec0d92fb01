"""API of the CRM's analytics (shop domain, under /api/crm/)."""

urlpatterns: list = []
