from django.urls import path

from summaries import views

app_name = "summaries"

urlpatterns = [
    path("m/<str:code>/close/", views.close, name="close"),
    path("m/<str:code>/summary/", views.review, name="review"),
    path("m/<str:code>/summary/send/", views.send, name="send"),
    path("m/<str:code>/summary/deliveries/", views.deliveries, name="deliveries"),
    path("m/<str:code>/summary/pdf/", views.pdf, name="pdf"),
    path("m/<str:code>/it/send/", views.it_send, name="it_send"),
]
