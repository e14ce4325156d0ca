from django.urls import path

from webhooks import views

urlpatterns = [
    path("accounts/settings/webhooks/new/", views.new_endpoint, name="webhook-new"),
    path("accounts/settings/webhooks/<uuid:endpoint_id>/", views.endpoint_detail, name="webhook-endpoint"),
    path("accounts/settings/webhooks/<uuid:endpoint_id>/switch/", views.switch_endpoint, name="webhook-switch"),
    path("accounts/settings/webhooks/<uuid:endpoint_id>/test/", views.test_endpoint, name="webhook-test"),
    path("accounts/settings/webhooks/<uuid:endpoint_id>/rotate-secret/", views.rotate_secret, name="webhook-rotate-secret"),
    path("accounts/settings/webhooks/<uuid:endpoint_id>/delete/", views.delete_endpoint, name="webhook-delete"),
    path("accounts/settings/webhooks/deliveries/<uuid:delivery_id>/redeliver/", views.redeliver, name="webhook-redeliver"),
]
