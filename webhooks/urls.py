from django.urls import path

from webhooks import views

urlpatterns = [
    path("accounts/settings/webhooks/new/", views.new_endpoint, name="webhook-new"),
    path("accounts/settings/webhooks/<uuid:endpoint_id>/", views.endpoint_detail, name="webhook-endpoint"),
    path("accounts/settings/webhooks/<uuid:endpoint_id>/switch/", views.switch_endpoint, name="webhook-switch"),
    path("accounts/settings/webhooks/<uuid:endpoint_id>/test/", views.endpoint_action, {"action": "test"}, name="webhook-test"),
    path(
        "accounts/settings/webhooks/<uuid:endpoint_id>/rotate-secret/",
        views.endpoint_action,
        {"action": "rotate-secret"},
        name="webhook-rotate-secret",
    ),
    path("accounts/settings/webhooks/<uuid:endpoint_id>/delete/", views.endpoint_action, {"action": "delete"}, name="webhook-delete"),
    path("accounts/settings/webhooks/deliveries/<uuid:delivery_id>/redeliver/", views.redeliver, name="webhook-redeliver"),
]
