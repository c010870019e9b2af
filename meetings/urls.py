from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("m/<str:code>/", views.meeting_detail, name="meeting_detail"),
]
