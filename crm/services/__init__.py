"""The CRM's writers, one module per kind of data: contacts, catalog, orders, pipeline, segments, imports."""
