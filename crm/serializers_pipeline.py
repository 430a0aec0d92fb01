"""Shapes of the pipeline API: stages, deals (card and detail), moves, the board and its metrics."""

from rest_framework import serializers

from crm.models import Contact, Deal, DealStageChange, Stage


class StageSerializer(serializers.ModelSerializer):
    deal_count = serializers.IntegerField(read_only=True)
    total_value = serializers.IntegerField(read_only=True)

    class Meta:
        model = Stage
        fields = ["id", "name", "kind", "position", "counts_as_contacted", "deal_count", "total_value"]


class StageWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(choices=Stage.Kind.choices, default=Stage.Kind.OPEN)
    counts_as_contacted = serializers.BooleanField(default=False)
    position = serializers.IntegerField(min_value=0, required=False, help_text="Index among the stages; default last")


class DealContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "phone"]


class DealCardSerializer(serializers.ModelSerializer):
    """A deal as the board shows it; `names` in the context maps owner ids to names."""

    contact = DealContactSerializer()
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Deal
        fields = [
            "id", "title", "value", "currency", "contact", "owner_id", "owner_name", "expected_close", "position",
            "stage_id", "created_at",
        ]  # fmt: skip

    def get_owner_name(self, deal) -> str | None:
        return self.context.get("names", {}).get(deal.owner_id)


class DealChangeSerializer(serializers.ModelSerializer):
    from_stage_name = serializers.CharField(source="from_stage.name", default=None)
    to_stage_name = serializers.CharField(source="to_stage.name")
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = DealStageChange
        fields = ["from_stage_id", "from_stage_name", "to_stage_id", "to_stage_name", "actor_id", "actor_name",
                  "changed_at"]  # fmt: skip

    def get_actor_name(self, change) -> str | None:
        return self.context.get("names", {}).get(change.actor_id)


class DealSerializer(DealCardSerializer):
    stage = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    class Meta(DealCardSerializer.Meta):
        fields = [
            *DealCardSerializer.Meta.fields, "stage", "lost_reason", "notes", "contacted_at", "closed_at", "history",
        ]  # fmt: skip

    def get_stage(self, deal) -> dict:
        return {"id": deal.stage_id, "name": deal.stage.name, "kind": deal.stage.kind}

    def get_history(self, deal) -> list[dict]:
        return DealChangeSerializer(self.context.get("history", []), many=True, context=self.context).data


class DealCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    contact_id = serializers.IntegerField()
    value = serializers.IntegerField(min_value=0, default=0, help_text="Minor units of the shop's currency")
    expected_close = serializers.DateField(required=False, allow_null=True)
    owner_id = serializers.IntegerField(required=False, allow_null=True, help_text="Default: the caller")
    stage_id = serializers.IntegerField(required=False, help_text="Default: the first open stage")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class DealUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    value = serializers.IntegerField(min_value=0)
    expected_close = serializers.DateField(allow_null=True)
    owner_id = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField(allow_blank=True)


class DealMoveSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    position = serializers.IntegerField(min_value=0, required=False, help_text="Target index; default the end")
    lost_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BoardColumnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    position = serializers.IntegerField()
    count = serializers.IntegerField(help_text="Deals in the whole column")
    total_value = serializers.IntegerField(help_text="Value of the whole column")
    deals = DealCardSerializer(many=True, help_text="The first 50 in column order")


class BoardSerializer(serializers.Serializer):
    stages = BoardColumnSerializer(many=True)


class DealPageSerializer(serializers.Serializer):
    results = DealCardSerializer(many=True)
    next = serializers.IntegerField(allow_null=True, help_text="The offset of the next page")


class OwnerRateSerializer(serializers.Serializer):
    owner_id = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField(allow_null=True)
    contacted = serializers.IntegerField()
    won = serializers.IntegerField()
    win_rate = serializers.CharField(allow_null=True)


class FunnelRowSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    name = serializers.CharField()
    reached = serializers.IntegerField()
    conversion_from_previous = serializers.CharField(allow_null=True)


class LostReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class MetricsSerializer(serializers.Serializer):
    """Definitions: crm/services/pipeline.py."""

    prospects_contacted = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    closing_rate = serializers.CharField(allow_null=True, help_text="Decimal with 4 places")
    win_rate_by_owner = OwnerRateSerializer(many=True)
    average_days_to_close = serializers.CharField(allow_null=True, help_text="Decimal with 1 place")
    funnel = FunnelRowSerializer(many=True)
    lost_reasons = LostReasonSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        return {"from": serializers.DateField(), "to": serializers.DateField(), **fields}
