from django.apps import AppConfig


class CounsellingConfig(AppConfig):
    name = "rarebridge.counselling"
    label = "counselling"
