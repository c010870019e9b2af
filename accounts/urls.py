from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("language/", views.language_set, name="language_set"),
    path("calendar/reset/", views.calendar_reset, name="calendar_reset"),
]
