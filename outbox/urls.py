from django.urls import path

from outbox import views

app_name = "outbox"

urlpatterns = [
    path("outbox/", views.installation, name="installation"),
    path("outbox/resend/", views.resend, name="resend"),
]
