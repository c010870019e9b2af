from django.urls import path

from topics import views

app_name = "topics"

urlpatterns = [
    path("m/<str:code>/postit/", views.postit, name="postit"),
    path("m/<str:code>/postit/autosave/", views.postit_autosave, name="postit_autosave"),
]
