from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/register/", views.register, name="register"),
    path("accounts/login/", views.log_in, name="login"),
    path("accounts/logout/", views.log_out, name="logout"),
    path("accounts/settings/", views.account_settings, name="account-settings"),
    path("accounts/language/", views.choose_language, name="choose-language"),
    path("accounts/settings/export/", views.export_my_data, name="export-my-data"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<uuid:notification_id>/open", views.open_notification, name="notification-open"),
]
