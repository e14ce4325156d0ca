from django.conf import settings


def site(request):
    context = {"APP_NAME": settings.APP_NAME, "APP_VERSION": settings.APP_VERSION}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # The badge in the header; live updates come over /ws/user/{id}.
        context["unread_notifications"] = user.notifications.filter(read_at__isnull=True).count()
    return context
