from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from csp.decorators import csp_update
from rest_framework.routers import DefaultRouter

from accounts.api import ApiKeyViewSet, NotificationViewSet, UserViewSet
from polls.api import (
    AnswerViewSet,
    DeckViewSet,
    InviteViewSet,
    LikeViewSet,
    PollViewSet,
    UserPollsViewSet,
    VoteViewSet,
    WriteInViewSet,
    oembed,
)
from quickpoll import views
from quickpoll.api import UUID_PATTERN
from quickpoll.openapi import RedocView, SchemaView, SwaggerView
from webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet

docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})

admin.site.site_header = f"{settings.APP_NAME} moderation"
admin.site.site_title = f"{settings.APP_NAME} moderation"


class OptionalSlashRouter(DefaultRouter):
    """Every API path answers with or without its trailing slash, so a POST is never redirected."""

    include_format_suffixes = False

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("users", UserViewSet, basename="user")
router.register(rf"users/(?P<user_id>{UUID_PATTERN})", UserPollsViewSet, basename="user-polls")
router.register("polls", PollViewSet, basename="poll")
router.register(rf"polls/(?P<poll_id>{UUID_PATTERN})/invites", InviteViewSet, basename="poll-invite")
router.register(rf"polls/(?P<poll_id>{UUID_PATTERN})/write-ins", WriteInViewSet, basename="poll-write-in")
router.register(rf"polls/(?P<poll_id>{UUID_PATTERN})/answers", AnswerViewSet, basename="poll-answer")
router.register("decks", DeckViewSet, basename="deck")
router.register("votes", VoteViewSet, basename="vote")
router.register("likes", LikeViewSet, basename="like")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("keys", ApiKeyViewSet, basename="api-key")
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("", views.home, name="home"),
    re_path(r"^health/?$", views.health, name="health"),
    re_path(r"^api/info/?$", views.api_info, name="api-info"),
    re_path(r"^api/schema/?$", SchemaView.as_view(), name="schema"),
    # Swagger UI and ReDoc style elements inline, and ReDoc renders in a blob: worker.
    re_path(r"^docs/?$", docs_csp(SwaggerView.as_view(url_name="schema")), name="docs"),
    re_path(r"^redoc/?$", docs_csp(RedocView.as_view(url_name="schema")), name="redoc"),
    re_path(r"^api/oembed/?$", oembed, name="oembed"),
    path("api/", include(router.urls)),
    path("admin/", admin.site.urls),
    # The page script's strings in the page's language, as a script (same origin: CSP-clean).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("polls.urls")),
    path("", include("accounts.urls")),
    path("", include("webhooks.urls")),
]

handler400 = "quickpoll.views.bad_request"
handler403 = "quickpoll.views.permission_denied"
handler404 = "quickpoll.views.page_not_found"
handler500 = "quickpoll.views.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
