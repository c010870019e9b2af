from django.contrib import admin
from django.urls import include, path

from tvargrupp.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("me/", include("accounts.urls")),
    path("", include("summaries.urls")),
    path("", include("board.urls")),
    path("", include("topics.urls")),
    path("", include("meetings.urls")),
    path("", include("groups.urls")),
]
