"""Contacts, labels and custom attributes: the customer cards of a shop."""

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from crm.models import AttributeDefinition, Contact, Label, TimelineEvent
from crm.serializers import (
    AttributeDefinitionSerializer,
    BulkSerializer,
    ContactDetailSerializer,
    ContactRowSerializer,
    ContactWriteSerializer,
    LabelSerializer,
    TimelineItemSerializer,
)
from crm.services import contacts as service
from crm.services import erasure
from tenants.permissions import IsShopManager, IsShopMember, request_membership
from tenants.services.errors import ServiceError
from whatsapp.serializers import user_names

from .common import page_by_id, page_schema

ROW_COLUMNS = [name for name in ContactRowSerializer.Meta.fields if name not in ("labels", "owner_name", "rfm_segment")]


def actor_id(request) -> int | None:
    membership = request_membership(request)
    return membership.user_id if membership else None


def filtered_contacts(params) -> QuerySet[Contact]:
    """The contact list's filters, all in SQL (shared with the CSV export)."""
    queryset = Contact.objects.filter(merged_into__isnull=True)
    queryset = service.search(queryset, params.get("q", ""))
    if (label := params.get("label", "")).isdigit():
        queryset = queryset.filter(labels__id=label)
    if city := params.get("city"):
        queryset = queryset.filter(city__iexact=city)
    owner = params.get("owner")
    if owner == "none":
        queryset = queryset.filter(owner_id__isnull=True)
    elif owner and owner.isdigit():
        queryset = queryset.filter(owner_id=owner)
    consent = params.get("consent")
    if consent in ("opted_in", "opted_out"):
        queryset = queryset.filter(marketing_opt_out=consent == "opted_out")
    if source := params.get("source"):
        queryset = queryset.filter(source=source)
    return queryset


def _detail(contact: Contact) -> dict:
    return ContactDetailSerializer(contact, context={"names": user_names([contact.owner_id])}).data


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter(p, str) for p in ("q", "label", "city", "owner", "consent", "source", "cursor")],
    responses=page_schema("ContactPage", ContactRowSerializer),
    tags=["contacts"],
)
@extend_schema(
    methods=["POST"], request=ContactWriteSerializer, responses={201: ContactDetailSerializer}, tags=["contacts"]
)
@api_view(["GET", "POST"])
@permission_classes([IsShopMember])
def contacts(request):
    """Search by name, email or a phone fragment in any format; cursor pages of 50."""
    if request.method == "POST":
        serializer = ContactWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = service.create_contact(actor_id=actor_id(request), **serializer.validated_data)
        return Response(_detail(contact), status=status.HTTP_201_CREATED)
    queryset = (
        filtered_contacts(request.query_params)
        .select_related("rfm")
        .only(*ROW_COLUMNS, "rfm__segment")  # not the wide text and JSON columns the list does not show
        .prefetch_related(Prefetch("labels", Label.objects.all()))
    )
    rows, next_cursor = page_by_id(queryset, request.query_params.get("cursor"))
    names = user_names(c.owner_id for c in rows)
    return Response({"results": ContactRowSerializer(rows, many=True, context={"names": names}).data,
                     "next_cursor": next_cursor})  # fmt: skip


@extend_schema(methods=["GET"], responses=ContactDetailSerializer, tags=["contacts"])
@extend_schema(methods=["PATCH"], request=ContactWriteSerializer, responses=ContactDetailSerializer, tags=["contacts"])
@api_view(["GET", "PATCH"])
@permission_classes([IsShopMember])
def contact(request, contact_id: int):
    contacts = Contact.objects.select_related("rfm").prefetch_related("labels")
    found = get_object_or_404(contacts, pk=contact_id, merged_into__isnull=True)
    if request.method == "PATCH":
        if found.erased_at is not None:
            raise ServiceError(_("This customer's data was erased on request; it cannot be filled in again."),
                               code="erased")  # fmt: skip
        serializer = ContactWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        service.update_contact(found, actor_id=actor_id(request), **serializer.validated_data)
        found = Contact.objects.select_related("rfm").prefetch_related("labels").get(pk=found.pk)
    return Response(_detail(found))


@extend_schema(
    parameters=[OpenApiParameter("before", str)], responses=TimelineItemSerializer(many=True), tags=["contacts"]
)
@api_view(["GET"])
@permission_classes([IsShopMember])
def timeline(request, contact_id: int):
    """Notes, orders, deals, labels and consent, merged with the WhatsApp messages, newest first."""
    from whatsapp.models import Message

    found = get_object_or_404(Contact, pk=contact_id, merged_into__isnull=True)
    before = request.query_params.get("before")
    events = TimelineEvent.objects.filter(contact=found)
    messages = Message.objects.filter(conversation__contact=found).exclude(direction=Message.Direction.NOTE)
    if before:
        events, messages = events.filter(created_at__lt=before), messages.filter(created_at__lt=before)
    items = [
        {"id": f"e{e.pk}", "kind": e.kind, "summary": e.summary, "actor_id": e.actor_id, "created_at": e.created_at,
         "data": e.data}
        for e in events.order_by("-created_at", "-pk")[:50]
    ] + [
        {"id": f"m{m.pk}", "kind": f"message.{m.direction}", "summary": m.text[:300] or f"[{m.type}]",
         "actor_id": m.author_id, "created_at": m.created_at, "data": {"status": m.status, "automated": m.automated}}
        for m in messages.order_by("-created_at", "-pk")[:50]
    ]  # fmt: skip
    items = sorted(items, key=lambda item: item["created_at"], reverse=True)[:50]
    names = user_names(item["actor_id"] for item in items)
    for item in items:
        item["actor_name"] = names.get(item.pop("actor_id"))
    return Response({
        "results": TimelineItemSerializer(items, many=True).data,
        "next_before": items[-1]["created_at"].isoformat() if len(items) == 50 else None,
    })  # fmt: skip


@extend_schema(request=TimelineItemSerializer, responses={201: TimelineItemSerializer}, tags=["contacts"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def note(request, contact_id: int):
    found = get_object_or_404(Contact, pk=contact_id, merged_into__isnull=True)
    event = service.add_note(found, str(request.data.get("text", "")), actor_id=actor_id(request))
    item = {"id": f"e{event.pk}", "kind": event.kind, "summary": event.summary, "created_at": event.created_at,
            "data": event.data, "actor_name": user_names([event.actor_id]).get(event.actor_id)}  # fmt: skip
    return Response(TimelineItemSerializer(item).data, status=status.HTTP_201_CREATED)


@extend_schema(request=BulkSerializer, tags=["contacts"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def bulk(request):
    serializer = BulkSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    changes = {"owner_id": data["owner_id"]} if "owner_id" in request.data else {}
    updated = service.bulk_update(data["ids"], actor_id=actor_id(request), add_label_ids=data["add_label_ids"],
                                  remove_label_ids=data["remove_label_ids"], **changes)  # fmt: skip
    return Response({"updated": updated})


@extend_schema(responses=ContactDetailSerializer, tags=["contacts"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def merge(request, contact_id: int):
    """Joins another record (and its history) into this one."""
    keep = get_object_or_404(Contact, pk=contact_id, merged_into__isnull=True)
    other = get_object_or_404(Contact, pk=request.data.get("other_id"), merged_into__isnull=True)
    service.merge(keep, other, actor_id=actor_id(request))
    return Response(_detail(Contact.objects.select_related("rfm").prefetch_related("labels").get(pk=keep.pk)))


@extend_schema(request=None, responses=ContactDetailSerializer, tags=["contacts"])
@api_view(["POST"])
@permission_classes([IsShopManager])
def erase(request, contact_id: int):
    """The right to be forgotten: the customer's personal data, messages and history go; totals stay (owners and
    admins only; see crm.services.erasure for what is kept)."""
    found = get_object_or_404(Contact, pk=contact_id, merged_into__isnull=True)
    erasure.erase_contact(found, actor=request.user)
    return Response(_detail(Contact.objects.select_related("rfm").prefetch_related("labels").get(pk=found.pk)))


class Labels(viewsets.ModelViewSet):
    serializer_class = LabelSerializer
    pagination_class = None

    def get_queryset(self):
        return Label.objects.annotate(contact_count=Count("contacts"))

    def get_permissions(self):
        return [IsShopMember()] if self.request.method == "GET" else [IsShopManager()]


class Attributes(viewsets.ModelViewSet):
    queryset = AttributeDefinition.objects.all()
    serializer_class = AttributeDefinitionSerializer
    pagination_class = None

    def get_permissions(self):
        return [IsShopMember()] if self.request.method == "GET" else [IsShopManager()]


collection = {"get": "list", "post": "create"}
item = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
urlpatterns = [
    path("contacts/", contacts),
    path("contacts/bulk/", bulk),
    path("contacts/<int:contact_id>/", contact),
    path("contacts/<int:contact_id>/timeline/", timeline),
    path("contacts/<int:contact_id>/notes/", note),
    path("contacts/<int:contact_id>/merge/", merge),
    path("contacts/<int:contact_id>/erase/", erase),
    path("labels/", Labels.as_view(collection)),
    path("labels/<int:label_id>/", Labels.as_view(item, lookup_url_kwarg="label_id")),
    path("attributes/", Attributes.as_view(collection)),
    path("attributes/<int:attribute_id>/", Attributes.as_view(item, lookup_url_kwarg="attribute_id")),
]
