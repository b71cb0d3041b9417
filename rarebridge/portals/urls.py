from django.urls import path

from rarebridge.portals import home

app_name = "portals"
urlpatterns = [path("home/", home.home, name="home")]
