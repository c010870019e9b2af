from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("m/<str:code>/", views.meeting_detail, name="meeting_detail"),
    path("m/<str:code>/edit/", views.meeting_edit, name="meeting_edit"),
    path("m/<str:code>/cancel/", views.meeting_cancel_view, name="meeting_cancel"),
    path("m/<str:code>/intake/", views.intake, name="intake"),
    path("g/<str:code>/schedule/", views.schedule_edit, name="schedule_edit"),
    path("g/<str:code>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
