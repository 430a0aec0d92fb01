from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from crm.models import Contact
from tenants.models import User
from whatsapp.channel.models import WhatsAppAccount

from . import outbound
from .models import AutoReplyRule, BusinessHours, Conversation, Message, MessageTemplate, QuickReply


def user_names(ids) -> dict[int, str]:
    """Staff names by plain user id (users live in the public schema)."""
    ids = {i for i in ids if i}
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


class CardDateTimeField(serializers.DateTimeField):
    """A time the database wrote into a JSON card, shown like every other time of the API."""

    def to_representation(self, value):
        return super().to_representation(parse_datetime(value) if isinstance(value, str) else value)


class ContactCardSerializer(serializers.Serializer):
    """The contact beside a conversation, from the card the conversation carries (`Conversation.contact_card`)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField(allow_null=True)
    wa_id = serializers.CharField(allow_null=True)
    email = serializers.CharField()
    source = serializers.ChoiceField(choices=Contact.Source.choices)
    marketing_opt_out = serializers.BooleanField()
    created_at = CardDateTimeField()


class ConversationSerializer(serializers.ModelSerializer):
    contact = ContactCardSerializer(source="contact_card")
    assignee_name = serializers.SerializerMethodField()
    window_open = serializers.SerializerMethodField()
    window_expires_at = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id", "status", "assignee_id", "assignee_name", "unread_count", "last_message_at",
            "last_message_preview", "window_open", "window_expires_at", "contact",
        ]  # fmt: skip

    def get_assignee_name(self, conversation) -> str | None:
        names = self.context.get("names") or user_names([conversation.assignee_id])
        return names.get(conversation.assignee_id)

    def get_window_open(self, conversation) -> bool:
        return outbound.window_open(_last_inbound_at(conversation))

    def get_window_expires_at(self, conversation):
        expires = outbound.window_expires_at(_last_inbound_at(conversation))
        return expires.isoformat() if expires else None


def _last_inbound_at(conversation: Conversation):
    return parse_datetime(conversation.contact_card.get("last_inbound_at") or "")


class ConversationUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    assignee_id = serializers.IntegerField(allow_null=True, required=False)


class MessageSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id", "direction", "type", "text", "status", "error_code", "error_reason", "automated",
            "author_id", "author_name", "created_at", "payload",
        ]  # fmt: skip

    def get_author_name(self, message) -> str | None:
        names = self.context.get("names") or user_names([message.author_id])
        return names.get(message.author_id)


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4096, allow_blank=True)


class TemplateSendSerializer(serializers.Serializer):
    template_id = serializers.IntegerField()
    parameters = serializers.ListField(child=serializers.CharField(max_length=1024), required=False, default=list)


class AccountSerializer(serializers.ModelSerializer):
    connected = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField()
    access_token = serializers.CharField(write_only=True, required=False, allow_blank=True)
    app_secret = serializers.CharField(write_only=True, required=False, allow_blank=True)
    verify_token = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = WhatsAppAccount
        fields = [
            "connected", "phone_number_id", "waba_id", "display_phone_number", "verified_name", "quality_rating",
            "throughput_level", "status", "last_error_code", "last_error_reason", "last_checked_at",
            "verify_token", "webhook_url", "access_token", "app_secret",
        ]  # fmt: skip
        read_only_fields = [
            "verified_name", "quality_rating", "throughput_level", "status", "last_error_code",
            "last_error_reason", "last_checked_at",
        ]  # fmt: skip
        extra_kwargs = {"phone_number_id": {"validators": []}}

    def get_connected(self, account) -> bool:
        return account.pk is not None

    def get_webhook_url(self, account) -> str:
        from whatsapp.channel.services import webhook_url

        return webhook_url()


class AutoReplyRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AutoReplyRule
        fields = [
            "id",
            "name",
            "kind",
            "keywords",
            "reply_text",
            "reply_buttons",
            "reply_list",
            "priority",
            "cooldown_minutes",
            "active",
        ]

    def validate_keywords(self, keywords):
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise serializers.ValidationError("A list of words.")
        return [k.strip() for k in keywords if k.strip()]

    def validate_reply_buttons(self, buttons):
        if (
            not isinstance(buttons, list)
            or len(buttons) > 3
            or any(not isinstance(b, str) or not 0 < len(b) <= 20 for b in buttons)
        ):
            raise serializers.ValidationError("Up to 3 buttons of at most 20 characters.")
        return buttons

    def validate_reply_list(self, menu):
        if not menu:
            return {}
        rows = menu.get("rows") if isinstance(menu, dict) else None
        button = menu.get("button", "") if isinstance(menu, dict) else ""
        if (
            not isinstance(rows, list) or not 0 < len(rows) <= 10
            or any(not isinstance(r, str) or not 0 < len(r.strip()) <= 24 for r in rows)
            or not isinstance(button, str) or not 0 < len(button.strip()) <= 20
        ):  # fmt: skip
            raise serializers.ValidationError("A list needs a button label (≤ 20 characters) and 1–10 rows of ≤ 24.")
        return {"button": button.strip(), "rows": [r.strip() for r in rows]}

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        if attrs.get("reply_buttons") and attrs.get("reply_list"):
            raise serializers.ValidationError({"reply_list": ["Use buttons or a list, not both."]})
        keywords = attrs.get("keywords", getattr(self.instance, "keywords", []))
        if kind == AutoReplyRule.Kind.KEYWORD and not keywords:
            raise serializers.ValidationError({"keywords": ["Add at least one keyword."]})
        return attrs


class RuleTestSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    first_message = serializers.BooleanField(default=False)
    at = serializers.DateTimeField(required=False)


class BusinessHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = BusinessHours
        fields = ["weekly", "holidays"]

    def validate_weekly(self, weekly):
        import re

        days = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
        clock = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
        if not isinstance(weekly, dict) or set(weekly) - days:
            raise serializers.ValidationError("Days are mon..sun.")
        for day, spans in weekly.items():
            for span in spans:
                if len(span) != 2 or not all(clock.match(t) for t in span) or span[0] >= span[1]:
                    raise serializers.ValidationError(f'{day}: use ["09:00", "17:00"] with start before end.')
        return weekly


class QuickReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = QuickReply
        fields = ["id", "shortcut", "text"]


class MessageTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "language", "category", "status", "body_text", "parameter_count"]
