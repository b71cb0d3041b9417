from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "rarebridge.notify"
    label = "notify"
