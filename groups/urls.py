from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("groups/new/", views.group_create_view, name="group_create"),
    path("g/<str:code>/settings/", views.group_settings, name="settings"),
    path(
        "g/<str:code>/departments/<str:department>/",
        views.department_edit,
        name="department_edit",
    ),
    path(
        "g/<str:code>/departments/<str:department>/delete/",
        views.department_delete_view,
        name="department_delete",
    ),
    path("g/<str:code>/members/", views.members, name="members"),
    path("g/<str:code>/members/<str:member>/", views.member_edit, name="member_edit"),
    path(
        "g/<str:code>/members/<str:member>/remove/",
        views.member_remove_view,
        name="member_remove",
    ),
    path("invitations/<str:key>/", views.invitation_accept_view, name="invitation_accept"),
]
