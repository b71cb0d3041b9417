from django.urls import path

from rarebridge.portals.counsellor import views

app_name = "counsellor"
urlpatterns = [path("", views.home, name="home")]
