"""Shapes of contacts, labels, attributes, products and orders in the API."""

from rest_framework import serializers

from crm.models import AttributeDefinition, Contact, Label, Order, OrderItem, Product, Variant
from crm.services.orders import allowed_transitions


class LabelSerializer(serializers.ModelSerializer):
    # A label just made has no contacts (and no annotation to read the count from).
    contact_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Label
        fields = ["id", "name", "color", "contact_count"]

    def validate_color(self, color: str) -> str:
        import re

        if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise serializers.ValidationError("Use a colour like #0f766e.")
        return color


class AttributeDefinitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AttributeDefinition
        fields = ["id", "key", "label", "type", "choices"]

    def validate(self, attrs):
        kind = attrs.get("type", getattr(self.instance, "type", None))
        choices = attrs.get("choices", getattr(self.instance, "choices", []))
        if kind == AttributeDefinition.Type.CHOICE and not choices:
            raise serializers.ValidationError({"choices": ["A choice field needs its choices."]})
        return attrs


class LabelChipSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "name", "color"]


class ContactRowSerializer(serializers.ModelSerializer):
    labels = LabelChipSerializer(many=True, read_only=True)
    owner_name = serializers.SerializerMethodField()
    rfm_segment = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id", "name", "phone", "email", "city", "labels", "owner_id", "owner_name", "source",
            "marketing_opt_out", "order_count", "total_spent", "last_order_at", "rfm_segment", "created_at",
            "erased_at",
        ]  # fmt: skip

    def get_owner_name(self, contact) -> str | None:
        return (self.context.get("names") or {}).get(contact.owner_id)

    def get_rfm_segment(self, contact) -> str:
        return rfm_segment(contact)


def rfm_segment(contact: Contact) -> str:
    """The contact's RFM group, "" without scores (load `rfm` with the contacts: select or prefetch)."""
    scores = getattr(contact, "rfm", None)
    return scores.segment if scores else ""


class ContactDetailSerializer(ContactRowSerializer):
    conversation_id = serializers.SerializerMethodField()

    class Meta(ContactRowSerializer.Meta):
        fields = [
            *ContactRowSerializer.Meta.fields, "address", "birthday", "gender", "attributes", "notes",
            "marketing_opt_out_at", "marketing_opt_out_reason", "wa_id", "conversation_id", "last_inbound_at",
            "first_order_at",
        ]  # fmt: skip

    def get_conversation_id(self, contact) -> int | None:
        from whatsapp.models import Conversation

        return Conversation.objects.filter(contact=contact).values_list("pk", flat=True).first()


class ContactWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    city = serializers.CharField(max_length=80, required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    gender = serializers.ChoiceField(choices=[*Contact.Gender.values, ""], required=False)
    label_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    attributes = serializers.DictField(required=False)
    owner_id = serializers.IntegerField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    marketing_opt_out = serializers.BooleanField(required=False)


class TimelineItemSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    summary = serializers.CharField()
    actor_name = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    data = serializers.DictField()


class BulkSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=5000)
    add_label_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    remove_label_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    owner_id = serializers.IntegerField(required=False, allow_null=True)


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variant
        fields = ["id", "sku", "size", "color", "price", "stock", "active"]


class ProductSerializer(serializers.ModelSerializer):
    variants = VariantSerializer(many=True)

    class Meta:
        model = Product
        fields = ["id", "name", "description", "image_url", "active", "variants"]


class OrderItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["id", "variant_id", "description", "quantity", "unit_price", "line_total"]


class OrderContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "phone"]


class OrderSerializer(serializers.ModelSerializer):
    contact = OrderContactSerializer(read_only=True)
    items = OrderItemSerializer(many=True, read_only=True)
    status_history = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id", "number", "contact", "status", "status_history", "allowed_transitions", "payment_status",
            "payment_method", "channel", "currency", "subtotal", "discount", "shipping_fee", "total",
            "tracking_number", "notes", "conversation_id", "items", "created_at",
        ]  # fmt: skip

    def get_status_history(self, order) -> list[dict]:
        names = self.context.get("names") or {}
        return [{"status": h["status"], "at": h["at"], "by_name": names.get(h.get("by"))} for h in order.status_history]

    def get_allowed_transitions(self, order) -> list[str]:
        return allowed_transitions(order)


class OrderCreateSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField()
    items = serializers.ListField(child=serializers.DictField(), min_length=1)
    discount = serializers.IntegerField(required=False, default=0, min_value=0)
    shipping_fee = serializers.IntegerField(required=False, default=0, min_value=0)
    payment_method = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    channel = serializers.ChoiceField(choices=Order.Channel.choices, required=False, default=Order.Channel.WHATSAPP)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    conversation_id = serializers.IntegerField(required=False, allow_null=True)

    def validate_items(self, items):
        for item in items:
            if not isinstance(item.get("variant_id"), int):
                raise serializers.ValidationError("Each item needs a variant_id.")
        return items


class OrderUpdateSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True)
    payment_method = serializers.CharField(required=False, allow_blank=True, max_length=40)
    payment_status = serializers.ChoiceField(choices=Order.PaymentStatus.choices, required=False)
    tracking_number = serializers.CharField(required=False, allow_blank=True, max_length=60)


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices)
    tracking_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)
    notify = serializers.BooleanField(required=False, default=False)


class OrderTemplatesSerializer(serializers.Serializer):
    confirmed = serializers.IntegerField(allow_null=True, required=False)
    paid = serializers.IntegerField(allow_null=True, required=False)
    shipped = serializers.IntegerField(allow_null=True, required=False)
