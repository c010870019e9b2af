from django.urls import path

from board import views

app_name = "board"

urlpatterns = [
    path("m/<str:code>/board/", views.board, name="board"),
    path("m/<str:code>/board/act/", views.act, name="act"),
    path("m/<str:code>/board/attendance/", views.attendance, name="attendance"),
    path("m/<str:code>/board/search/", views.search, name="search"),
    path("m/<str:code>/screen/", views.screen, name="screen"),
    path("m/<str:code>/live/", views.participant, name="participant"),
    path("m/<str:code>/live/idea/", views.idea, name="idea"),
    # The version check screens poll (/live/ itself is the stream process's, make live).
    path("poll/<str:token>/", views.poll, name="poll"),
]
