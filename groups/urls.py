from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("", views.home, name="home"),
    path("g/<str:code>/", views.group_detail, name="group_detail"),
    path("g/<str:code>/invitations/", views.invitation_create_view, name="invitation_create"),
    path("invitations/<str:key>/", views.invitation_accept_view, name="invitation_accept"),
]
