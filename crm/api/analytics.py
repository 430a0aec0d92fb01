"""API of the CRM's analytics (shop domain, under /api/crm/): the dashboard and its tables as CSV."""

import csv
import io

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from crm.services import analytics as service
from tenants.permissions import IsShopMember
from tenants.services.errors import ServiceError

PERIOD = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day, in the shop's time zone (default: 30 days ago)"
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)"),
]
EXPORT_COLUMNS = {
    "top_products": ["product_id", "name", "quantity", "revenue"],
    "top_customers": ["contact_id", "name", "orders", "revenue"],
    "trend": ["date", "orders", "revenue"],
}


def _period(request) -> service.Period:
    params = request.query_params
    return service.parse_period(params.get("from"), params.get("to"), request.tenant.time_zone)


@extend_schema(parameters=PERIOD, responses=OpenApiTypes.OBJECT, tags=["analytics"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def dashboard(request):
    """KPIs with the previous period, first response times, top products and customers, trend, funnel."""
    return Response(service.dashboard(_period(request)))


@extend_schema(parameters=PERIOD, responses={(200, "text/csv"): bytes}, tags=["analytics"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def export(request, table: str):
    """One of the dashboard's tables (top_products, top_customers, trend) as CSV, UTF-8 with BOM for Excel."""
    if table not in service.TABLES:
        raise ServiceError(_("There is no such table."), code="not_found")
    period = _period(request)
    columns = EXPORT_COLUMNS[table]
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in service.TABLES[table](period):
        writer.writerow([row[column] for column in columns])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"{table}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("analytics/", dashboard, name="crm-analytics"),
    path("analytics/export/<str:table>/", export, name="crm-analytics-export"),
]
