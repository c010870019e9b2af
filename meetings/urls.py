from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("", views.home, name="home"),
    path("g/<str:code>/", views.group_detail, name="group_detail"),
    path("m/<str:code>/edit/", views.meeting_edit, name="meeting_edit"),
    path("m/<str:code>/cancel/", views.meeting_cancel_view, name="meeting_cancel"),
    path("m/<str:code>/outbox/", views.meeting_outbox, name="outbox"),
    path("m/<str:code>/outbox/resend/", views.meeting_outbox_resend, name="outbox_resend"),
    path("g/<str:code>/schedule/", views.schedule_edit, name="schedule_edit"),
    path("g/<str:code>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("m/<str:code>/answer/", views.attendance_answer, name="attendance_answer"),
    path("answer/<str:token>/", views.answer, name="answer"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
