"""The shared inbox and WhatsApp settings API, on the shop's domain."""

import contextlib
import json
import time

from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from billing.plans import check_limit
from config.redis import redis_client
from crm.api.common import int_param, page_schema
from tenants.authentication import ShopSessionAuthentication
from tenants.models import Membership
from tenants.permissions import IsShopManager, IsShopMember, request_membership
from tenants.services.errors import ServiceError
from whatsapp.channel import services as channel
from whatsapp.channel.models import WhatsAppAccount

from . import auto_reply, graph, live, media, outbound, templates
from .models import AutoReplyRule, BusinessHours, Conversation, Message, MessageTemplate, QuickReply
from .serializers import (
    AccountSerializer,
    AutoReplyRuleSerializer,
    BusinessHoursSerializer,
    ConversationSerializer,
    ConversationUpdateSerializer,
    MessageSerializer,
    MessageTemplateSerializer,
    QuickReplySerializer,
    RuleTestSerializer,
    TemplateSendSerializer,
    TextSerializer,
    user_names,
)

PAGE = 50


def _actor_id(request) -> int | None:
    membership = request_membership(request)
    return membership.user_id if membership else None


def _conversation(pk: int) -> Conversation:
    return get_object_or_404(Conversation.objects.select_related("contact"), pk=pk)


@extend_schema(
    parameters=[
        OpenApiParameter("view", str, enum=["all", "mine", "unassigned"]),
        OpenApiParameter("status", str, enum=["open", "closed", "all"]),
        OpenApiParameter("q", str),
        OpenApiParameter("label", int, description="only customers with this label"),
        OpenApiParameter("before", str, description="last_message_at of the last item seen"),
    ],
    responses=page_schema("ConversationPage", ConversationSerializer, "next_before"),
    tags=["inbox"],
)
@api_view(["GET"])
@permission_classes([IsShopMember])
def conversations(request):
    """Newest first; `next_before` pages further back. One table: each conversation carries its contact's card."""
    queryset = Conversation.objects.filter(last_message_at__isnull=False)
    view = request.query_params.get("view", "all")
    if view == "mine":
        queryset = queryset.filter(assignee_id=_actor_id(request))
    elif view == "unassigned":
        queryset = queryset.filter(assignee_id__isnull=True)
    if label := int_param(request.query_params, "label"):
        queryset = queryset.filter(contact__labels__id=label)
    state = request.query_params.get("status", "open")
    if state in ("open", "closed"):
        queryset = queryset.filter(status=state)
    if q := request.query_params.get("q", "").strip():
        digits = "".join(ch for ch in q if ch.isdigit())
        match = Q(contact__name__icontains=q) | Q(last_message_preview__icontains=q)
        if len(digits) >= 4:
            match |= Q(contact__phone__contains=digits.removeprefix("0"))
        queryset = queryset.filter(match)
    if before := request.query_params.get("before"):
        moment = parse_datetime(before)
        if moment is None:
            raise ValidationError({"before": [_("Expected a date and time, as the previous page's next_before.")]})
        queryset = queryset.filter(last_message_at__lt=moment)
    page = list(queryset.order_by("-last_message_at", "-id")[:PAGE])
    names = user_names(c.assignee_id for c in page)
    return Response(
        {
            "results": ConversationSerializer(page, many=True, context={"names": names}).data,
            "next_before": page[-1].last_message_at.isoformat() if len(page) == PAGE else None,
        }
    )


@extend_schema(
    methods=["PATCH"], request=ConversationUpdateSerializer, responses=ConversationSerializer, tags=["inbox"]
)
@extend_schema(methods=["GET"], responses=ConversationSerializer, tags=["inbox"])
@api_view(["GET", "PATCH"])
@permission_classes([IsShopMember])
def conversation(request, conversation_id: int):
    found = _conversation(conversation_id)
    if request.method == "PATCH":
        serializer = ConversationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = serializer.validated_data
        assignee = changes.get("assignee_id")
        if assignee is not None and not Membership.objects.filter(shop=request.tenant, user_id=assignee).exists():
            raise ServiceError(_("Assign the conversation to someone on the team."), field="assignee_id")
        for field, value in changes.items():
            setattr(found, field, value)
        found.save(update_fields=list(changes) or None)
        live.publish("conversation.updated", {"conversation_id": found.pk})
    return Response(ConversationSerializer(found).data)


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter("before_id", int)],
    responses=MessageSerializer(many=True),
    tags=["inbox"],
)
@extend_schema(methods=["POST"], request=TextSerializer, responses={201: MessageSerializer}, tags=["inbox"])
@api_view(["GET", "POST"])
@permission_classes([IsShopMember])
def messages(request, conversation_id: int):
    """The thread, latest page first in time order; POST replies with free-form text (inside the window)."""
    found = _conversation(conversation_id)
    if request.method == "POST":
        serializer = TextSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = outbound.send_text(found, serializer.validated_data["text"], author_id=_actor_id(request))
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
    queryset = Message.objects.filter(conversation=found)
    if before := request.query_params.get("before_id"):
        queryset = queryset.filter(pk__lt=int(before))
    page = list(queryset.order_by("-created_at", "-id")[: PAGE + 1])
    has_more = len(page) > PAGE
    page = list(reversed(page[:PAGE]))
    names = user_names(m.author_id for m in page)
    return Response(
        {"results": MessageSerializer(page, many=True, context={"names": names}).data, "has_more": has_more}
    )


@extend_schema(request=TextSerializer, responses={201: MessageSerializer}, tags=["inbox"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def note(request, conversation_id: int):
    """An internal note: seen by staff, never sent to the customer."""
    found = _conversation(conversation_id)
    serializer = TextSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    text = serializer.validated_data["text"].strip()
    if not text:
        raise ServiceError(_("Type a note first."), field="text")
    message = Message.objects.create(
        conversation=found, direction=Message.Direction.NOTE, type="note", text=text, status=Message.Status.RECEIVED,
        author_id=_actor_id(request),
    )  # fmt: skip
    live.publish("message.created", {"conversation_id": found.pk, "message_id": message.pk})
    return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request={"multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"},
                                                                      "caption": {"type": "string"}}}},
    responses={201: MessageSerializer},
    tags=["inbox"],
)  # fmt: skip
@api_view(["POST"])
@permission_classes([IsShopMember])
def attachment(request, conversation_id: int):
    """A photo or document for the customer, uploaded to WhatsApp and sent inside the service window."""
    found = _conversation(conversation_id)
    upload = request.FILES.get("file")
    if upload is None:
        raise ServiceError(_("Choose a file to send."), field="file")
    if upload.size > outbound.MAX_ATTACHMENT_BYTES:
        raise ServiceError(
            _("This file is larger than WhatsApp allows (%(mb)d MB).")
            % {"mb": outbound.MAX_ATTACHMENT_BYTES // (1024 * 1024)},
            field="file",
        )
    message = outbound.send_attachment(
        found, filename=upload.name, content=upload.read(), mime_type=upload.content_type or "",
        caption=str(request.data.get("caption", "")), author_id=_actor_id(request),
    )  # fmt: skip
    return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


@extend_schema(request=TemplateSendSerializer, responses={201: MessageSerializer}, tags=["inbox"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def send_template(request, conversation_id: int):
    found = _conversation(conversation_id)
    serializer = TemplateSendSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    template = get_object_or_404(MessageTemplate, pk=serializer.validated_data["template_id"], status="approved")
    message = outbound.send_template(
        found, template, serializer.validated_data["parameters"], author_id=_actor_id(request)
    )
    return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


@extend_schema(request=None, responses={204: None}, tags=["inbox"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def mark_read(request, conversation_id: int):
    """Clears the unread badge and tells WhatsApp the customer's latest message was read."""
    found = _conversation(conversation_id)
    had_unread = Conversation.objects.filter(pk=found.pk, unread_count__gt=0).update(unread_count=0)
    latest = (
        Message.objects.filter(conversation=found, direction=Message.Direction.INBOUND).order_by("-created_at").first()
    )
    account = outbound.shop_account()
    if had_unread and latest and latest.wamid and account:
        # The blue ticks are a courtesy; the badge is cleared either way.
        with contextlib.suppress(graph.GraphError):
            graph.mark_read(account.phone_number_id, account.access_token, latest.wamid)
    live.publish("conversation.updated", {"conversation_id": found.pk})
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(responses={(200, "application/octet-stream"): bytes}, tags=["inbox"])
@api_view(["GET"])
@permission_classes([IsShopMember])
def message_media(request, message_id: int):
    """The photo, document or voice note of a message, fetched through the shop's WhatsApp token."""
    message = get_object_or_404(Message, pk=message_id)
    account = outbound.shop_account()
    if not message.media_id or account is None:
        raise ServiceError(_("This message has no media."), code="not_found")
    try:
        content, mime_type = media.fetch(account, message.media_id)
    except graph.GraphError as error:
        reason = error.reason
        return Response({"detail": reason, "code": error.code}, status=status.HTTP_502_BAD_GATEWAY)
    response = HttpResponse(content, content_type=mime_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def stream(request):
    """Server-sent events of this shop's inbox (new messages, status ticks, conversation changes)."""
    from rest_framework.request import Request

    drf_request = Request(request, authenticators=[ShopSessionAuthentication()])
    try:
        user = drf_request.user
    except Exception:
        user = None
    if (
        user is None
        or not user.is_authenticated
        or not Membership.objects.filter(shop=request.tenant, user=user).exists()
    ):
        return HttpResponse(status=401)
    channel_name = live.channel_name(request.tenant.schema_name)

    def events():
        pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel_name)
        started = time.monotonic()
        try:
            yield "retry: 1000\n\n"
            while time.monotonic() - started < 300:  # the browser reconnects; threads are not held forever
                item = pubsub.get_message(timeout=15)
                if item is None:
                    yield ": keep-alive\n\n"
                    continue
                event = json.loads(item["data"])
                yield f"event: {event['event']}\ndata: {json.dumps(event['data'])}\n\n"
        finally:
            pubsub.close()

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@extend_schema(methods=["GET"], responses=AccountSerializer, tags=["whatsapp"])
@extend_schema(methods=["PUT"], request=AccountSerializer, responses=AccountSerializer, tags=["whatsapp"])
@api_view(["GET", "PUT"])
@permission_classes([IsShopManager])
def account(request):
    """Settings > WhatsApp. Tokens and secrets can be written, never read."""
    current = WhatsAppAccount.objects.filter(shop=request.tenant).first()
    if request.method == "PUT":
        serializer = AccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        current = channel.connect(request.tenant, _actor_id(request), **serializer.validated_data)
        current.refresh_from_db()
    return Response(AccountSerializer(current or WhatsAppAccount()).data)


@extend_schema(request=None, tags=["whatsapp"])
@api_view(["POST"])
@permission_classes([IsShopManager])
def test_account(request):
    current = WhatsAppAccount.objects.filter(shop=request.tenant).first()
    if current is None:
        raise ServiceError(_("Connect WhatsApp first."), code="not_connected")
    return Response(channel.test_connection(current))


class AutoReplyRules(viewsets.ModelViewSet):
    queryset = AutoReplyRule.objects.all()
    serializer_class = AutoReplyRuleSerializer
    permission_classes = [IsShopManager]
    pagination_class = None

    def perform_create(self, serializer):
        check_limit(self.request.tenant, "automation_rules", in_use=AutoReplyRule.objects.count)
        serializer.save()


@extend_schema(request=RuleTestSerializer, tags=["whatsapp"])
@api_view(["POST"])
@permission_classes([IsShopMember])
def test_rule(request):
    """Which rule would answer this text (cooldowns aside), and with what."""
    serializer = RuleTestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    rule = auto_reply.choose_rule(
        data["text"], first_message=data["first_message"], at=data.get("at") or timezone.now()
    )
    return Response(
        {
            "rule": {"id": rule.pk, "name": rule.name, "kind": rule.kind} if rule else None,
            "reply_text": rule.reply_text if rule else None,
        }
    )


@extend_schema(methods=["GET"], responses=BusinessHoursSerializer, tags=["whatsapp"])
@extend_schema(methods=["PUT"], request=BusinessHoursSerializer, responses=BusinessHoursSerializer, tags=["whatsapp"])
@api_view(["GET", "PUT"])
@permission_classes([IsShopMember])
def business_hours(request):
    hours = BusinessHours.objects.first() or BusinessHours(weekly={}, holidays=[])
    if request.method == "PUT":
        if not IsShopManager().has_permission(request, None):
            return Response({"detail": IsShopManager.message}, status=status.HTTP_403_FORBIDDEN)
        serializer = BusinessHoursSerializer(hours, data=request.data)
        serializer.is_valid(raise_exception=True)
        hours = serializer.save()
    return Response({**BusinessHoursSerializer(hours).data, "timezone": request.tenant.time_zone})


class QuickReplies(viewsets.ModelViewSet):
    queryset = QuickReply.objects.all()
    serializer_class = QuickReplySerializer
    pagination_class = None

    def get_permissions(self):
        return [IsShopMember()] if self.request.method == "GET" else [IsShopManager()]


class Templates(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = MessageTemplate.objects.all()
    serializer_class = MessageTemplateSerializer
    permission_classes = [IsShopMember]
    pagination_class = None


@extend_schema(request=None, tags=["whatsapp"])
@api_view(["POST"])
@permission_classes([IsShopManager])
def sync_templates(request):
    current = WhatsAppAccount.objects.filter(shop=request.tenant).first()
    if current is None:
        raise ServiceError(_("Connect WhatsApp first."), code="not_connected")
    try:
        return Response({"synced": templates.sync(current)})
    except graph.GraphError as error:
        return Response(
            {"detail": error.reason, "code": error.code},
            status=502,
        )
