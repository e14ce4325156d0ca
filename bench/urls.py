"""QuickPoll's URLs plus the benchmark's baseline: a trivial JSON view behind the same middleware."""

from django.http import JsonResponse
from django.urls import path

from quickpoll.urls import urlpatterns as quickpoll_urlpatterns


def trivial(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/trivial", trivial), *quickpoll_urlpatterns]

