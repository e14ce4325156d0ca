"""The accounts API: sign-up, JWT login, profiles, public user pages, notifications."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import api_keys, errors, services, two_factor
from accounts.backends import login_account_key
from accounts.notifications import mark_notifications_read
from accounts.personal_data import export_personal_data
from accounts.models import ApiKey, Notification, User
from accounts.serializers import (
    AccountDeletionSerializer,
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    CountSerializer,
    DetailSerializer,
    EmailConfirmSerializer,
    EmailPreferencesSerializer,
    LoginSerializer,
    MeSerializer,
    NotificationSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    PublicUserSerializer,
    RefreshSerializer,
    RegisterSerializer,
    SessionSerializer,
    TokenPairSerializer,
    TwoFactorChallengeSerializer,
    TwoFactorLoginSerializer,
)
from quickpoll.api import UUID_PATTERN, errors_for
from quickpoll.idempotency import idempotent
from quickpoll.errors import RateLimited
from quickpoll.parsers import JSONParser
from quickpoll.ratelimits import spend_export_budget, spend_login_budget


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _session(request, user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    me = MeSerializer(user, context={"request": request}).data
    return {"user": me, "access": str(refresh.access_token), "refresh": str(refresh)}


@extend_schema_view(
    list=extend_schema(
        summary="Public profiles, oldest first", responses={200: PublicUserSerializer(many=True), **errors_for(404)}
    ),
    retrieve=extend_schema(summary="One public profile", responses={200: PublicUserSerializer, **errors_for(404)}),
)
@extend_schema(tags=["Users"])
# Signing up, in and out and one's own account are "Accounts" in the docs; other people's profiles "Users".
@extend_schema_view(
    **{
        action: extend_schema(tags=["Accounts"])
        for action in (
            "register",
            "login",
            "login_two_factor",
            "token_refresh",
            "logout",
            "me",
            "password",
            "export",
            "password_reset",
            "password_reset_confirm",
            "email_confirm",
            "email_resend",
            "email_preferences",
        )
    }
)
class UserViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = User.objects.filter(is_active=True).order_by("created_at")
    serializer_class = PublicUserSerializer
    permission_classes = [AllowAny]
    lookup_value_regex = UUID_PATTERN

    def get_api_key_scope(self):
        # Everything one wrote, in one file: for the person, not for their scripts. Unsafe actions name no scope.
        return api_keys.ACCOUNT_ONLY if self.action == "export" else None

    @extend_schema(summary="Create an account", request=RegisterSerializer, responses={201: SessionSerializer, **errors_for(400, 409, 429)})
    @action(detail=False, methods=["post"])
    def register(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.register_user(**serializer.validated_data)
        return Response(_session(request, user), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Log in with a username or email address",
        description=(
            "An account with two-factor authentication gets no tokens here: the answer is "
            "`{two_factor_required: true, challenge}`, and `POST /api/users/login/two-factor` with the "
            "challenge and a code gives them."
        ),
        request=LoginSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="LoginResult",
                serializers=[SessionSerializer, TwoFactorChallengeSerializer],
                resource_type_field_name=None,
            ),
            **errors_for(400, 401, 429),
        },
    )
    @action(detail=False, methods=["post"])
    def login(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.log_in(request=request, **serializer.validated_data)
        if two_factor.two_factor_enabled(user):
            return Response({"two_factor_required": True, "challenge": two_factor.sign_in_challenge(user)})
        return Response(_session(request, user))

    @extend_schema(
        summary="Finish logging in with a two-factor code",
        description="A recovery code works once in place of the app's code; each code works once.",
        request=TwoFactorLoginSerializer,
        responses={200: SessionSerializer, **errors_for(400, 401, 429)},
    )
    @action(detail=False, methods=["post"], url_path="login/two-factor")
    def login_two_factor(self, request):
        serializer = TwoFactorLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, _ = two_factor.complete_sign_in(request=request, **serializer.validated_data)
        return Response(_session(request, user))

    @extend_schema(summary="Swap a refresh token for a new pair (the old one stops working)", request=RefreshSerializer, responses={200: TokenPairSerializer, **errors_for(400, 401)})
    @action(detail=False, methods=["post"], url_path="token/refresh")
    def token_refresh(self, request):
        serializer = TokenRefreshSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:  # rotated, logged out, expired or forged
            raise AuthenticationFailed(str(exc), code="token_not_valid") from None
        return Response(serializer.validated_data)

    @extend_schema(summary="Log out: the refresh token stops working", request=RefreshSerializer, responses={204: None, **errors_for(400, 401)})
    @action(detail=False, methods=["post"])
    def logout(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise AuthenticationFailed(str(exc), code="token_not_valid") from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], summary="My profile", responses={200: MeSerializer, **errors_for(401)})
    @extend_schema(
        methods=["PATCH"],
        summary="Change my profile (display name, bio, email, avatar as multipart upload)",
        request={"application/json": MeSerializer, "multipart/form-data": MeSerializer},
        responses={200: MeSerializer, **errors_for(400, 401, 409)},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Delete my account, confirming with my password",
        description=(
            "Erases the account and its personal data: its ballots and likes leave the counts of the polls "
            "they were on, its polls, reports, notifications and tokens are deleted, and other people's "
            "notifications stop naming it. Download your data first (`GET /api/users/me/export`)."
        ),
        request=AccountDeletionSerializer,
        responses={204: None, **errors_for(400, 401, 429)},
    )
    @action(
        detail=False,
        methods=["get", "patch", "delete"],
        permission_classes=[IsAuthenticated],
        # The avatar is a file: this action alone also takes multipart bodies.
        parser_classes=[JSONParser, MultiPartParser],
    )
    def me(self, request):
        if request.method == "DELETE":
            serializer = AccountDeletionSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            # The password is checked: a stolen access token must not become a way to guess it.
            spend_login_budget(request, login_account_key(request.user.username, request.user))
            services.delete_own_account(user=request.user, **serializer.validated_data)
            return Response(status=status.HTTP_204_NO_CONTENT)
        if request.method == "PATCH":
            serializer = MeSerializer(request.user, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            services.update_profile(user=request.user, **serializer.validated_data)
        return Response(MeSerializer(request.user, context={"request": request}).data)

    @extend_schema(summary="Change my password", request=PasswordChangeSerializer, responses={204: None, **errors_for(400, 401)})
    @action(detail=False, methods=["post"], url_path="me/password", permission_classes=[IsAuthenticated])
    def password(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Download my data",
        description=(
            "Everything QuickPoll keeps about the signed-in account, as one JSON document: `account`, "
            "`notifications`, `polls` (authored, with options and counts), `ballots` (poll, options chosen, "
            "when, and the address and browser kept with them), `likes` and `reports` (filed). The settings "
            "page offers the same document as a file."
        ),
        responses={200: OpenApiTypes.OBJECT, **errors_for(401, 429)},
    )
    @action(detail=False, methods=["get"], url_path="me/export", permission_classes=[IsAuthenticated])
    def export(self, request):
        spend_export_budget(request, request.user)
        return Response(export_personal_data(user=request.user))

    @extend_schema(
        summary="Mail me a password reset link",
        description=(
            "Always 202 with the same answer, whether or not an account has this address: nobody learns "
            "who has an account. An address gets a few of these mails an hour at most."
        ),
        request=PasswordResetRequestSerializer,
        responses={202: DetailSerializer, **errors_for(400, 429)},
    )
    @action(detail=False, methods=["post"], url_path="password-reset")
    def password_reset(self, request):
        services.request_password_reset(request=request, **_validated(PasswordResetRequestSerializer, request))
        detail = gettext("If an account uses this address, a link to choose a new password is on its way there.")
        return Response({"detail": detail}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Set a new password with the token from a reset mail",
        description=(
            "The token works once, for PASSWORD_RESET_TIMEOUT seconds, and not after the password changed. "
            "Every session and token of the account ends; the address counts as confirmed. 400 `invalid_token` "
            "or `token_expired` for a link that no longer works."
        ),
        request=PasswordResetConfirmSerializer,
        responses={204: None, **errors_for(400, 429)},
    )
    @action(detail=False, methods=["post"], url_path="password-reset/confirm")
    def password_reset_confirm(self, request):
        services.reset_password(**_validated(PasswordResetConfirmSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Confirm an email address with the token from a confirmation mail",
        description=(
            "Confirms the account's address, or, after a change of address, makes the new one the account's "
            "(the old one is told). 400 `invalid_token` or `token_expired`; 409 `email_taken` when another "
            "account took the new address meanwhile."
        ),
        request=EmailConfirmSerializer,
        responses={204: None, **errors_for(400, 409, 429)},
    )
    @action(detail=False, methods=["post"], url_path="email/confirm")
    def email_confirm(self, request):
        services.confirm_email(**_validated(EmailConfirmSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Mail my confirmation link again",
        description="To the address waiting for confirmation (`pending_email`), else to my own if unconfirmed.",
        request=None,
        responses={202: DetailSerializer, **errors_for(401, 409, 429)},
    )
    @action(detail=False, methods=["post"], url_path="me/email/resend", permission_classes=[IsAuthenticated])
    def email_resend(self, request):
        user = request.user
        if user.is_verified and not user.pending_email:
            raise errors.NothingToConfirm()
        if not services.send_email_confirmation(user=user, request=request):
            raise RateLimited(3600)
        return Response({"detail": gettext("A new confirmation link is on its way.")}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(methods=["GET"], summary="Which notification mails I get", responses={200: EmailPreferencesSerializer, **errors_for(401)})
    @extend_schema(
        methods=["PATCH"],
        summary="Choose which notification mails I get",
        request=EmailPreferencesSerializer,
        responses={200: EmailPreferencesSerializer, **errors_for(400, 401)},
    )
    @action(detail=False, methods=["get", "patch"], url_path="me/email-preferences", permission_classes=[IsAuthenticated])
    def email_preferences(self, request):
        if request.method == "PATCH":
            serializer = EmailPreferencesSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.set_email_preferences(user=request.user, **serializer.validated_data)
        return Response(EmailPreferencesSerializer(request.user).data)

    @extend_schema(summary="How many active accounts there are", responses={200: CountSerializer})
    @action(detail=False)
    def count(self, request):
        return Response({"count": self.get_queryset().count()})



@extend_schema_view(
    list=extend_schema(
        summary="My notifications, newest first",
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="true: only those not yet read")],
        responses={200: NotificationSerializer(many=True), **errors_for(401, 404)},
    ),
    retrieve=extend_schema(
        summary="One of my notifications", responses={200: NotificationSerializer, **errors_for(401, 404)}
    ),
)
@extend_schema(tags=["Notifications"])
class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        notifications = Notification.objects.filter(recipient=self.request.user)
        unread = self.request.query_params.get("unread", "").lower()
        if unread in {"1", "true", "yes"}:
            notifications = notifications.filter(read_at__isnull=True)
        return notifications

    @extend_schema(summary="Mark one notification read", request=None, responses={200: NotificationSerializer, **errors_for(401, 404)})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        mark_notifications_read(recipient=request.user, notification_ids=[notification.pk])
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(summary="Mark all my notifications read", request=None, responses={200: CountSerializer, **errors_for(401)})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"count": mark_notifications_read(recipient=request.user)})


@extend_schema_view(
    list=extend_schema(
        summary="My API keys, newest first (revoked ones too, with revoked_at)",
        responses={200: ApiKeySerializer(many=True), **errors_for(401, 403, 404)},
    ),
    retrieve=extend_schema(summary="One of my API keys", responses={200: ApiKeySerializer, **errors_for(401, 403, 404)}),
    create=extend_schema(
        summary="Make an API key; its secret is in this answer only",
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer, **errors_for(400, 401, 403, 409)},
    ),
    destroy=extend_schema(
        summary="Revoke an API key: requests with it fail from now on",
        responses={204: None, **errors_for(401, 403, 404)},
    ),
)
@extend_schema(tags=["API keys"])
class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Personal API keys (accounts.api_keys), managed by their owner signed in: a key cannot make or see keys."""

    serializer_class = ApiKeySerializer
    permission_classes = [IsAuthenticated]
    api_key_scope = api_keys.ACCOUNT_ONLY
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiKey.objects.none()
        return ApiKey.objects.filter(user=self.request.user)

    @idempotent
    def create(self, request):
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, secret = api_keys.create_api_key(user=request.user, **serializer.validated_data)
        body = ApiKeySerializer(key).data | {"secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        api_keys.revoke_api_keys(keys=ApiKey.objects.filter(pk=self.get_object().pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
