from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("m/<str:code>/export.csv", views.meeting_export, {"fmt": "csv"}, name="export_csv"),
    path("m/<str:code>/export.json", views.meeting_export, {"fmt": "json"}, name="export_json"),
    path("g/<str:code>/search/", views.search, name="search"),
    path("g/<str:code>/insights/", views.insights, name="insights"),
    path("g/<str:code>/goals/", views.goals, name="goals"),
    path("m/<str:code>/goals/", views.meeting_goals, name="meeting_goals"),
    path("m/<str:code>/board/radar/", views.board_radar_panel, name="board_radar"),
    path("m/<str:code>/board/radar/decide/", views.board_radar_decide, name="board_radar_decide"),
    path("m/<str:code>/postit/radar/", views.postit_radar_results, name="postit_radar"),
    path("m/<str:code>/postit/radar/suggest/", views.postit_suggest, name="postit_suggest"),
]
