from django.urls import path  # noqa: F401

app_name = "directory_admin"
urlpatterns: list = []
