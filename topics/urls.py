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
    path("m/<str:code>/it/", views.it_perspective, name="it_perspective"),
    path("s/<str:code>/", views.solution_edit, name="solution_edit"),
    path("g/<str:code>/micro-projects/", views.micro_project_list, name="micro_project_list"),
    path("p/<str:code>/", views.micro_project_detail, name="micro_project_detail"),
    path("t/<str:code>/", views.topic_detail, name="topic_detail"),
    path("status/<str:token>/", views.status_answer, name="status_answer"),
    path("g/<str:code>/d/<str:department>/", views.department_detail, name="department_detail"),
]
