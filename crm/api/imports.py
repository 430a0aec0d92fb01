"""Contact import (upload, map, run in the background, report) and the contacts CSV export."""

import csv
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from crm.models import AttributeDefinition, ContactImport
from crm.services import imports as service
from crm.tasks import run_contact_import
from tenants.permissions import IsShopMember
from tenants.services.errors import ServiceError

from .contacts import actor_id, filtered_contacts


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class UploadedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    preview = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    suggested_mapping = serializers.DictField(child=serializers.CharField(allow_null=True))
    fields = serializers.ListField(child=serializers.DictField())


class StartSerializer(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.CharField(allow_null=True, allow_blank=True))
    update_existing = serializers.BooleanField(default=True)
    label_all = serializers.CharField(max_length=40, required=False, allow_blank=True)


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class ImportStatusSerializer(serializers.ModelSerializer):
    errors = ImportErrorSerializer(many=True)
    errors_note = serializers.SerializerMethodField()

    class Meta:
        model = ContactImport
        fields = ["id", "filename", "status", "update_existing", "total_rows", "processed_rows", "created_count",
                  "updated_count", "failed_count", "errors", "errors_note", "created_at", "finished_at"]  # fmt: skip

    def get_errors_note(self, job) -> str | None:
        return service.error_note(job)


@extend_schema(request={"multipart/form-data": UploadSerializer}, responses={201: UploadedSerializer}, tags=["imports"])
@api_view(["POST"])
@parser_classes([MultiPartParser])
@permission_classes([IsShopMember])
def upload(request):
    """A CSV (comma, semicolon or tab; UTF-8 or Windows-1252) or XLSX file, up to 20 MB."""
    upload = request.FILES.get("file")
    if upload is None:
        raise ServiceError(_("Choose a CSV or Excel file to upload."), field="file")
    if upload.size > service.MAX_UPLOAD_BYTES:
        raise ServiceError(_("The file is larger than 20 MB. Split it into smaller files."), field="file")
    job, preview = service.create_import(filename=upload.name, content=upload.read(), actor_id=actor_id(request))
    definitions = list(AttributeDefinition.objects.all())
    body = {
        "id": job.pk,
        "filename": job.filename,
        "columns": job.columns,
        "preview": preview,
        "suggested_mapping": service.suggest_mapping(job.columns, definitions),
        "fields": service.field_choices(definitions),
    }
    return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(request=StartSerializer, responses={202: ImportStatusSerializer}, tags=["imports"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def start(request, import_id: int):
    """Queues the job; poll the import for progress and the per-line report."""
    job = get_object_or_404(ContactImport.objects.defer("content"), pk=import_id)
    serializer = StartSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    with transaction.atomic():
        service.start_import(job, **serializer.validated_data)
        language = translation.get_language()
        transaction.on_commit(lambda: run_contact_import.delay(job.pk, language))
    return Response(ImportStatusSerializer(job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses=ImportStatusSerializer, tags=["imports"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def detail(request, import_id: int):
    job = get_object_or_404(ContactImport.objects.defer("content"), pk=import_id)
    return Response(ImportStatusSerializer(job).data)


class _Echo:
    """csv.writer target that hands each line back instead of buffering it."""

    def write(self, value: str) -> str:
        return value


@extend_schema(
    parameters=[OpenApiParameter(p, str) for p in ("q", "label", "city", "consent", "owner", "source")],
    responses={(200, "text/csv"): OpenApiTypes.STR},
    tags=["contacts"],
)
@api_view(["GET"])
@permission_classes([IsShopMember])
def export(request):
    """The contact list's filters as a CSV download (UTF-8 with BOM, so Excel shows accents right)."""
    zone = zoneinfo.ZoneInfo(getattr(request.tenant, "time_zone", None) or settings.SHOP_DEFAULT_TIME_ZONE)
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        for row in service.export_rows(filtered_contacts(request.query_params), zone):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = f"contacts-{timezone.localdate(timezone=zone).isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("imports/", upload),
    path("imports/<int:import_id>/", detail),
    path("imports/<int:import_id>/start/", start),
    path("contacts/export/", export),
]
