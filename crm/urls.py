"""The CRM API, mounted at /api/crm/ on a shop's domain; each area keeps its own routes."""

from crm.api import analytics, catalog, contacts, imports, orders, pipeline, segments

urlpatterns = [
    *contacts.urlpatterns,
    *catalog.urlpatterns,
    *orders.urlpatterns,
    *pipeline.urlpatterns,
    *segments.urlpatterns,
    *analytics.urlpatterns,
    *imports.urlpatterns,
]
