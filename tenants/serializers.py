from rest_framework import serializers

from .activity.models import ActivityEvent
from .models import ApiToken, AuditEvent, Invitation, Membership, Role, Shop


class ShopSerializer(serializers.ModelSerializer):
    timezone = serializers.CharField(source="time_zone")

    class Meta:
        model = Shop
        fields = ["name", "slug", "status", "timezone", "locale", "currency", "deletion_due_at"]


class SignupSerializer(serializers.Serializer):
    shop_name = serializers.CharField(max_length=100, allow_blank=True)
    subdomain = serializers.CharField(max_length=40, allow_blank=True)
    owner_name = serializers.CharField(max_length=120, allow_blank=True)
    email = serializers.CharField(max_length=254, allow_blank=True)
    password = serializers.CharField(max_length=128, allow_blank=True, write_only=True, trim_whitespace=False)
    phone = serializers.CharField(max_length=30, allow_blank=True, required=False, default="")


class SignupResultSerializer(serializers.Serializer):
    redirect_url = serializers.URLField()


class SubdomainCheckSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class SessionSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    shop = ShopSerializer()


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField()
    token = serializers.CharField()
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class MemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user_id", "name", "email", "role", "joined_at"]
        read_only_fields = ["id", "user_id"]


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    accept_url = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "created_at", "expires_at", "accept_url"]

    def get_accept_url(self, invitation) -> str | None:
        """The link exists only in the response that created it; we keep its hash."""
        return self.context.get("accept_url")


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationPreviewSerializer(serializers.Serializer):
    shop_name = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationAcceptSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, allow_blank=True, required=False, default="")
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, allow_blank=True)
    scopes = serializers.ListField(child=serializers.CharField(max_length=40), max_length=50)


class ApiTokenSerializer(serializers.ModelSerializer):
    created_by_name = serializers.CharField(source="created_by.name", default=None, read_only=True)
    scopes = serializers.ListField(child=serializers.CharField(), read_only=True)
    token = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "created_at", "last_used_at", "created_by_name", "token"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]

    def get_token(self, token) -> str | None:
        """The secret, in the creating response only."""
        return self.context.get("secret")


class TokenAreaSerializer(serializers.Serializer):
    area = serializers.CharField()
    label = serializers.CharField()
    read = serializers.CharField()
    write = serializers.CharField(allow_null=True)


class ActivityEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActivityEvent
        fields = ["id", "actor_id", "action", "summary", "created_at"]


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "action", "actor_email", "target", "details", "ip", "created_at"]


class ShopDeletionSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
