from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from tvargrupp.views import healthz, readyz

# The admin site signs in through allauth: the same rate limits, one-time codes and
# organisation sign-in as everywhere else, instead of a password form of its own.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("me/", include("accounts.urls")),
    path("", include("outbox.urls")),
    path("", include("insights.urls")),
    path("", include("summaries.urls")),
    path("", include("board.urls")),
    path("", include("topics.urls")),
    path("", include("meetings.urls")),
    path("", include("groups.urls")),
]
