from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("g/<str:code>/invitations/", views.invitation_create_view, name="invitation_create"),
    path("invitations/<str:key>/", views.invitation_accept_view, name="invitation_accept"),
]
