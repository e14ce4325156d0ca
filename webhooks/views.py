"""The webhooks pages under settings: add an endpoint, its settings and delivery log, redeliver."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from webhooks import errors, services
from webhooks.forms import EndpointForm
from webhooks.models import Delivery, Endpoint

LOG_PAGE_SIZE = 25


def _own_endpoint(request, endpoint_id) -> Endpoint:
    return get_object_or_404(Endpoint, pk=endpoint_id, owner=request.user)


@login_required
@require_http_methods(["GET", "POST"])
def new_endpoint(request):
    form = EndpointForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.create_endpoint(owner=request.user, **form.cleaned_data)
        except errors.InvalidEndpoint as refusal:
            form.add_service_errors(refusal.fields)
        except errors.EndpointLimitReached as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("Endpoint added. Copy its signing secret to your receiver."))
            return redirect("webhook-endpoint", endpoint.pk)
    status = 400 if form.errors else 200
    return render(request, "webhooks/new_endpoint.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_detail(request, endpoint_id):
    endpoint = _own_endpoint(request, endpoint_id)
    initial = {name: getattr(endpoint, name) for name in ("url", "description", "events", "poll", "milestone_every", "results_interval")}
    form = EndpointForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(endpoint=endpoint, actor=request.user, **form.cleaned_data)
        except errors.InvalidEndpoint as refusal:
            form.add_service_errors(refusal.fields)
            endpoint.refresh_from_db()
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhook-endpoint", endpoint.pk)
    attempts = Delivery.objects.filter(endpoint=endpoint).select_related("outbox_event")
    page = Paginator(attempts, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"endpoint": endpoint, "form": form, "page": page}
    return render(request, "webhooks/endpoint.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def switch_endpoint(request, endpoint_id):
    endpoint = _own_endpoint(request, endpoint_id)
    active = request.POST.get("active") == "1"
    services.update_endpoint(endpoint=endpoint, actor=request.user, is_active=active)
    messages.success(request, _("Endpoint switched on.") if active else _("Endpoint paused: nothing is sent to it."))
    return redirect("webhook-endpoint", endpoint.pk)


# The endpoint page's buttons: the service each calls, what it says, and whether the endpoint is gone after.
_ACTIONS = {
    "test": (services.send_test, gettext_lazy("A webhook.test message is on its way; it appears in the log below."), False),
    "rotate-secret": (services.rotate_secret, gettext_lazy("New signing secret in force. Give it to your receiver."), False),
    "delete": (services.delete_endpoint, gettext_lazy("Endpoint deleted."), True),
}


@login_required
@require_POST
def endpoint_action(request, endpoint_id, action):
    call, said, gone = _ACTIONS[action]
    call(endpoint=_own_endpoint(request, endpoint_id), actor=request.user)
    messages.success(request, said)
    if gone:
        return redirect(reverse("account-settings") + "#webhooks")
    return redirect("webhook-endpoint", endpoint_id)


@login_required
@require_POST
def redeliver(request, delivery_id):
    delivery = get_object_or_404(
        Delivery.objects.select_related("outbox_event__endpoint"), pk=delivery_id, endpoint__owner=request.user
    )
    try:
        services.redeliver(outbox_event=delivery.outbox_event, actor=request.user)
    except errors.NotRedeliverable as refusal:
        messages.info(request, refusal.message)
    else:
        messages.success(request, _("The message is queued again; it goes within seconds."))
    return redirect("webhook-endpoint", delivery.endpoint_id)
