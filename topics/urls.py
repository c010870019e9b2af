from django.urls import path

from topics import views

app_name = "topics"

urlpatterns = [
    path("m/<str:code>/", views.meeting_detail, name="meeting_detail"),
    path("m/<str:code>/intake/", views.intake, name="intake"),
    path("m/<str:code>/postit/", views.postit, name="postit"),
    path("m/<str:code>/postit/autosave/", views.postit_autosave, name="postit_autosave"),
    path("g/<str:code>/follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("f/<str:code>/", views.follow_up_detail, name="follow_up_detail"),
]
