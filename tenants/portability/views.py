"""Settings > Data: an owner starts an export of the shop, follows its progress and downloads it."""

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from ..permissions import IsShopOwner
from ..services.errors import ServiceError
from . import services
from .models import ShopExport

RECENT = 5


class ShopExportSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.email", default=None, read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ShopExport
        fields = ["id", "status", "progress", "rows_done", "rows_total", "file_size", "error", "requested_by",
                  "created_at", "finished_at", "expires_at", "download_url"]  # fmt: skip

    def get_progress(self, export) -> int:
        return services.progress_of(export)

    def get_download_url(self, export) -> str | None:
        return services.download_link(export)


@extend_schema(methods=["GET"], responses=ShopExportSerializer(many=True), tags=["data"])
@extend_schema(methods=["POST"], request=None, responses={202: ShopExportSerializer}, tags=["data"])
@api_view(["GET", "POST"])
@permission_classes([IsShopOwner])
def exports(request):
    """GET: the latest exports; POST: starts one (or returns the one already under way)."""
    if request.method == "GET":
        recent = ShopExport.objects.filter(shop=request.tenant).select_related("requested_by")[:RECENT]
        return Response(ShopExportSerializer(recent, many=True).data)
    export = services.start_export(request.tenant, request.user)
    return Response(ShopExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses=ShopExportSerializer, tags=["data"])
@api_view(["GET"])
@permission_classes([IsShopOwner])
def export(request, export_id: int):
    found = ShopExport.objects.filter(shop=request.tenant, pk=export_id).select_related("requested_by").first()
    if found is None:
        raise ServiceError(_("This export does not exist."), code="not_found")
    return Response(ShopExportSerializer(found).data)


@extend_schema(
    parameters=[OpenApiParameter("token", str, required=True)],
    responses={(200, "application/zip"): OpenApiTypes.BINARY},
    tags=["data"],
)
@api_view(["GET"])
@permission_classes([IsShopOwner])
def download(request, export_id: int):
    """The archive itself, through a link from the export's `download_url` while it is fresh."""
    found = services.export_for_download(request.tenant, export_id, request.query_params.get("token", ""))
    stream = services.open_export_file(found)
    filename = found.file_name.rsplit("/", 1)[-1]
    return FileResponse(stream, as_attachment=True, filename=filename, content_type="application/zip")
