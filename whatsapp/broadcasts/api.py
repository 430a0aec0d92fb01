"""API of broadcasts (shop domain, under /api/broadcasts/): compose, estimate, send, control, results."""

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from crm.models import AttributeDefinition, Label, Segment
from crm.services.segments import builtin_names
from tenants.permissions import IsShopManager, IsShopMember
from tenants.services.errors import PermissionDenied, ServiceError
from whatsapp.models import MessageTemplate

from . import audience, consent, cost, rendering, results, services
from .models import Broadcast

FIELD_LABELS = {
    "first_name": gettext_lazy("First name"),
    "name": gettext_lazy("Full name"),
    "city": gettext_lazy("City"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
}


def _template(template: MessageTemplate) -> dict:
    return {
        "id": template.pk,
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "body_text": template.body_text,
        "parameter_count": template.parameter_count,
        "header_format": rendering.header_format(template),
    }


class BroadcastSerializer(serializers.ModelSerializer):
    template = serializers.SerializerMethodField()

    class Meta:
        model = Broadcast
        fields = [
            "id", "name", "status", "status_reason", "template", "variables", "header_media_url", "audience",
            "exclude_segments", "frequency_cap_hours", "attribution_days", "scheduled_at", "started_at",
            "finished_at", "created_at", "recipient_count", "estimated_cost", "currency", "repeat", "trigger",
            "trigger_days", "trigger_hours", "next_run_at", "parent",
        ]  # fmt: skip

    def get_template(self, broadcast) -> dict:
        return _template(broadcast.template)


OCCURRENCES = 50


def _with_occurrences(broadcast: Broadcast) -> dict:
    """A repeating or triggered broadcast with its latest occurrences, each linking to its own results."""
    row = BroadcastSerializer(broadcast).data
    if broadcast.is_template:
        latest = broadcast.occurrences.order_by("-pk")[:OCCURRENCES]
        row["occurrences"] = [
            {
                "id": o.pk,
                "name": o.name,
                "started_at": o.started_at,
                "status": o.status,
                "recipients": o.recipient_count,
            }
            for o in latest.only("name", "started_at", "status", "recipient_count")
        ]
    return row


class BroadcastWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    template_id = serializers.IntegerField(required=False)
    variables = serializers.JSONField(required=False)
    header_media_url = serializers.URLField(required=False, allow_blank=True)
    audience = serializers.JSONField(required=False)
    exclude_segments = serializers.ListField(child=serializers.IntegerField(), required=False)
    frequency_cap_hours = serializers.IntegerField(min_value=0, max_value=24 * 30, required=False)
    attribution_days = serializers.IntegerField(min_value=1, max_value=90, required=False)
    repeat = serializers.ChoiceField(choices=Broadcast.Repeat.choices, required=False, allow_blank=True)
    trigger = serializers.ChoiceField(choices=Broadcast.Trigger.choices, required=False, allow_blank=True)
    trigger_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    trigger_hours = serializers.IntegerField(min_value=1, max_value=24 * 14, required=False)


class SendSerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False, allow_null=True)


class RetargetSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=list(results.STEPS))
    name = serializers.CharField(max_length=80)


def _broadcast(broadcast_id: int) -> Broadcast:
    return get_object_or_404(Broadcast.objects.select_related("template"), pk=broadcast_id)


def _money(value) -> str:
    return f"{value:.4f}"


@extend_schema(
    methods=["GET"],
    responses=inline_serializer(
        "BroadcastList", {"results": BroadcastSerializer(many=True), "count": serializers.IntegerField()}
    ),
    tags=["broadcasts"],
)
@extend_schema(methods=["POST"], request=BroadcastWriteSerializer, responses={201: BroadcastSerializer},
               tags=["broadcasts"])  # fmt: skip
@api_view(["GET", "POST"])
@permission_classes([IsShopMember])
def broadcasts(request):
    """Newest first; sending ones carry their progress."""
    if request.method == "POST":
        serializer = BroadcastWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.create_broadcast(serializer.validated_data, created_by_id=request.user.pk)
        return Response(BroadcastSerializer(created).data, status=status.HTTP_201_CREATED)
    rows = []
    # Occurrences of repeating and triggered broadcasts are listed on their parent's page.
    for broadcast in Broadcast.objects.filter(parent__isnull=True).select_related("template")[:100]:
        row = BroadcastSerializer(broadcast).data
        if broadcast.recipient_count:
            row["progress"] = results.progress(broadcast.pk)
        rows.append(row)
    return Response({"results": rows, "count": len(rows)})


@extend_schema(methods=["GET"], responses=BroadcastSerializer, tags=["broadcasts"])
@extend_schema(methods=["PATCH"], request=BroadcastWriteSerializer, responses=BroadcastSerializer, tags=["broadcasts"])
@extend_schema(methods=["DELETE"], responses={204: None}, tags=["broadcasts"])
@api_view(["GET", "PATCH", "DELETE"])
@permission_classes([IsShopMember])
def broadcast(request, broadcast_id: int):
    found = _broadcast(broadcast_id)
    if request.method == "DELETE":
        services.delete_broadcast(found)
        return Response(status=status.HTTP_204_NO_CONTENT)
    if request.method == "PATCH":
        serializer = BroadcastWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        found = services.update_broadcast(found, serializer.validated_data)
    return Response(_with_occurrences(found))


OPTIONS = inline_serializer(
    "BroadcastOptions",
    {name: serializers.ListField() for name in ("templates", "fields", "attributes", "segments", "groups", "labels")},
)


@extend_schema(responses=OPTIONS, tags=["broadcasts"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def options(request):
    """What a broadcast can be composed from: approved templates, contact fields, attributes, audiences."""
    templates = MessageTemplate.objects.filter(status__iexact="APPROVED")
    return Response(
        {
            "templates": [_template(template) for template in templates],
            "fields": [{"key": key, "label": str(label)} for key, label in FIELD_LABELS.items()],
            "attributes": [{"key": a.key, "label": a.label} for a in AttributeDefinition.objects.all()],
            "segments": [{"id": s.pk, "name": s.name} for s in Segment.objects.all()],
            "groups": [{"key": key, "name": name} for key, name in builtin_names().items()],
            "labels": [{"id": label.pk, "name": label.name, "color": label.color} for label in Label.objects.all()],
        }
    )


ESTIMATE = inline_serializer(
    "BroadcastEstimate",
    {"recipients": serializers.IntegerField(), "excluded": serializers.DictField(), "markets": serializers.ListField(),
     "total": serializers.CharField(), "currency": serializers.CharField(),
     "balance": serializers.CharField(allow_null=True), "cap_left": serializers.CharField(allow_null=True),
     "allowed": serializers.BooleanField(), "refusal": serializers.CharField(allow_null=True)},
)  # fmt: skip


@extend_schema(responses=ESTIMATE, tags=["broadcasts"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def estimate(request, broadcast_id: int):
    """The audience after exclusions, by market, times the rate: what the send will cost and whether it may."""
    found = cost.estimate(_broadcast(broadcast_id))
    return Response(
        {
            "recipients": found.recipients,
            "excluded": found.excluded,
            "markets": [
                {**row, "unit_price": _money(row["unit_price"]), "total": _money(row["total"])} for row in found.markets
            ],
            "total": _money(found.total),
            "currency": found.currency,
            "balance": None if found.balance is None else _money(found.balance),
            "cap_left": None if found.cap_left is None else _money(found.cap_left),
            "allowed": found.allowed,
            "refusal": found.refusal,
        }
    )


@extend_schema(responses=inline_serializer("BroadcastPreview", {"recipients": serializers.ListField()}),
               tags=["broadcasts"])  # fmt: skip
@api_view(["GET"])
@permission_classes([IsShopMember])
def preview(request, broadcast_id: int):
    """The message the first recipients will get, with their own values or the fallbacks."""
    found = _broadcast(broadcast_id)
    rows = []
    for contact in audience.preview_contacts(found):
        values = rendering.values_for(found.variables, contact)
        rows.append({"contact_id": contact.pk, "name": contact.name, "to": contact.to,
                     "text": rendering.text_for(found.template, values)})  # fmt: skip
    return Response({"recipients": rows})


@extend_schema(request=SendSerializer, responses=BroadcastSerializer, tags=["broadcasts"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def send(request, broadcast_id: int):
    """Now (the audience freezes and its cost is reserved, or the send is refused) or at `at`; a repeating or
    triggered broadcast becomes active, its first run at `at` or now."""
    serializer = SendSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    found = services.launch(_broadcast(broadcast_id), serializer.validated_data.get("at"), actor=request.user)
    return Response(BroadcastSerializer(found).data)


def _control(action):
    @extend_schema(request=None, responses=BroadcastSerializer, tags=["broadcasts"], operation_id=f"broadcast_{action}")
    @api_view(["POST"])
    @permission_classes([IsShopMember])
    def view(request, broadcast_id: int):
        extra = {"actor": request.user} if action == "cancel" else {}  # cancelling is audited
        return Response(BroadcastSerializer(getattr(services, action)(_broadcast(broadcast_id), **extra)).data)

    view.__doc__ = f"{action.capitalize()} the broadcast."
    return view


@extend_schema(responses=inline_serializer("BroadcastProgress", {"status": serializers.CharField()}),
               tags=["broadcasts"])  # fmt: skip
@api_view(["GET"])
@permission_classes([IsShopMember])
def progress(request, broadcast_id: int):
    return Response(results.progress(_broadcast(broadcast_id).pk))


@extend_schema(responses=inline_serializer("BroadcastResults", {"funnel": serializers.DictField()}),
               tags=["broadcasts"])  # fmt: skip
@api_view(["GET"])
@permission_classes([IsShopMember])
def summary(request, broadcast_id: int):
    found = results.summary(_broadcast(broadcast_id))
    found["cost"] = {key: _money(value) for key, value in found["cost"].items()}
    return Response(found)


STEP = OpenApiParameter("step", str, enum=list(results.STEPS))
PAGE = 50


@extend_schema(parameters=[STEP, OpenApiParameter("page", int)],
               responses=inline_serializer("BroadcastRecipients", {"results": serializers.ListField(),
                                                                     "count": serializers.IntegerField()}),
               tags=["broadcasts"])  # fmt: skip
@api_view(["GET"])
@permission_classes([IsShopMember])
def recipients(request, broadcast_id: int):
    """Who is at a step of the funnel (failed: with the reason), fifty a page."""
    found = _broadcast(broadcast_id)
    try:
        page = max(1, int(request.query_params.get("page") or 1))
    except ValueError:
        raise ServiceError(_("The page must be a number."), field="page") from None
    rows = results.recipients_at(found, request.query_params.get("step") or "failed")
    fields = ("contact_id", "name", "wa_id", "status", "error_code", "error_reason", "sent_at", "read_at", "replied_at")
    listed = [
        {**{key: value for key, value in zip(fields, row, strict=True) if key != "wa_id"}, "to": row[2]}
        for row in rows.values_list(*fields)[(page - 1) * PAGE : page * PAGE]
    ]
    return Response({"results": listed, "count": rows.count()})


@extend_schema(request=RetargetSerializer,
               responses={201: inline_serializer("Retargeted", {"segment_id": serializers.IntegerField(),
                                                                "name": serializers.CharField(),
                                                                "count": serializers.IntegerField()})},
               tags=["broadcasts"])  # fmt: skip
@api_view(["POST"])
@permission_classes([IsShopMember])
def retarget(request, broadcast_id: int):
    """A segment of whoever stopped at a step of this broadcast's funnel, to send them something else."""
    serializer = RetargetSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    segment, count = results.retarget(_broadcast(broadcast_id), **serializer.validated_data)
    return Response({"segment_id": segment.pk, "name": segment.name, "count": count}, status=status.HTTP_201_CREATED)


class ConsentSerializer(serializers.Serializer):
    stop_words = serializers.ListField(child=serializers.CharField(max_length=60), max_length=50, required=False)
    confirmation = serializers.CharField(max_length=1000, allow_blank=True, required=False)


@extend_schema(methods=["GET"], responses=ConsentSerializer, tags=["broadcasts"])
@extend_schema(methods=["PUT"], request=ConsentSerializer, responses=ConsentSerializer, tags=["broadcasts"])
@api_view(["GET", "PUT"])
@permission_classes([IsShopMember])
def consent_settings(request):
    """The shop's own opt-out words (STOP and BERHENTI always work) and the confirmation customers get."""
    if request.method == "PUT":
        if not IsShopManager().has_permission(request, None):
            raise PermissionDenied(IsShopManager.message)
        serializer = ConsentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent.update_settings(**serializer.validated_data)
    row = consent.settings_row()
    return Response({"stop_words": row.stop_words, "confirmation": row.confirmation,
                     "built_in_words": sorted(consent.STOP_WORDS)})  # fmt: skip


urlpatterns = [
    path("", broadcasts),
    path("consent/", consent_settings),
    path("options/", options),
    path("<int:broadcast_id>/", broadcast),
    path("<int:broadcast_id>/estimate/", estimate),
    path("<int:broadcast_id>/preview/", preview),
    path("<int:broadcast_id>/send/", send),
    path("<int:broadcast_id>/pause/", _control("pause")),
    path("<int:broadcast_id>/resume/", _control("resume")),
    path("<int:broadcast_id>/cancel/", _control("cancel")),
    path("<int:broadcast_id>/progress/", progress),
    path("<int:broadcast_id>/results/", summary),
    path("<int:broadcast_id>/recipients/", recipients),
    path("<int:broadcast_id>/retarget/", retarget),
]
