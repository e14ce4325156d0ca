"""Shapes of the accounts API. Another user's email address never leaves PublicUserSerializer."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.avatars import check_avatar
from accounts.errors import InvalidAccount
from accounts.services import check_time_zone
from accounts.two_factor import two_factor_enabled
from accounts.mail import NOTIFICATION_KINDS
from accounts.models import ApiKey, Notification, User


class PublicUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "display_name", "bio", "avatar", "created_at"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user's own profile, email included."""

    # Empty (not an address) when no change waits: a plain string in the schema.
    pending_email = serializers.CharField(
        read_only=True, help_text="A new address waiting for its confirmation link; empty when none waits."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "display_name",
            "bio",
            "avatar",
            "is_verified",
            "pending_email",
            "is_staff",
            "time_zone",
            "two_factor_enabled",
            "created_at",
            "updated_at",
            "last_login",
        ]
        read_only_fields = ["id", "username", "is_verified", "pending_email", "is_staff", "created_at", "updated_at", "last_login"]

    time_zone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="IANA name (Europe/Paris) pages show times in; empty: none."
    )
    two_factor_enabled = serializers.SerializerMethodField()

    def get_two_factor_enabled(self, user) -> bool:
        return two_factor_enabled(user)

    def validate_time_zone(self, name):
        return _known_time_zone(name)

    def validate_avatar(self, avatar):
        try:
            check_avatar(avatar)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return avatar


def _known_time_zone(name: str) -> str:
    try:
        return check_time_zone(name)
    except InvalidAccount as exc:
        raise serializers.ValidationError(exc.fields["time_zone"]) from None


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    time_zone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="IANA name (Europe/Paris) pages show times in."
    )

    def validate_time_zone(self, name):
        return _known_time_zone(name)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="Username or email address.")
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(write_only=True, max_length=128)
    new_password = serializers.CharField(write_only=True, max_length=128)


class AccountDeletionSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, max_length=128)


class SessionSerializer(serializers.Serializer):
    """What register and login answer: the account and a fresh token pair."""

    user = MeSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class TwoFactorChallengeSerializer(serializers.Serializer):
    """What login answers for an account with two-factor: no tokens yet, a challenge for the code's step."""

    two_factor_required = serializers.BooleanField(help_text="Always true: send the challenge and a code to /api/users/login/two-factor.")
    challenge = serializers.CharField(help_text="Valid for 5 minutes, until the password changes.")


class TwoFactorLoginSerializer(serializers.Serializer):
    challenge = serializers.CharField(max_length=1000)
    code = serializers.CharField(max_length=32, help_text="The authenticator app's 6 digits, or a recovery code.")


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class NotificationSerializer(serializers.ModelSerializer):
    poll_id = serializers.UUIDField(read_only=True, allow_null=True)
    message = serializers.SerializerMethodField()
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "poll_id", "message", "count", "payload", "is_read", "read_at", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_message(self, notification) -> str:
        return notification.payload.get("message", notification.get_kind_display())


class ApiKeySerializer(serializers.ModelSerializer):
    """A personal API key as its owner sees it: never its secret, which only the creation answer holds."""

    scopes = serializers.ListField(source="scope_list", child=serializers.ChoiceField(choices=ApiKey.Scope.choices))

    class Meta:
        model = ApiKey
        fields = ["id", "name", "scopes", "prefix", "expires_at", "created_at", "last_used_at", "last_used_ip", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiKey.Scope.choices), min_length=1, max_length=3)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Leave out for a key that does not expire.")


class ApiKeyCreatedSerializer(ApiKeySerializer):
    secret = serializers.CharField(help_text="The key itself, `qp_…`: shown this once, never again.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "secret"]
        read_only_fields = fields


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500, help_text="The token from the link in the reset mail.")
    new_password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})


class EmailConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500, help_text="The token from the link in the confirmation mail.")


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class EmailPreferencesSerializer(serializers.Serializer):
    """Which notification mails the account gets; each is off until turned on."""

    poll_closed = serializers.BooleanField(required=False, help_text="A poll of mine closed, with its final results.")
    report_handled = serializers.BooleanField(required=False, help_text="Moderators handled a report on a poll of mine.")
    weekly_digest = serializers.BooleanField(required=False, help_text="A weekly digest of the votes and likes on my polls.")

    def to_representation(self, user):
        return {kind: getattr(user, field) for kind, field in NOTIFICATION_KINDS.items()}
