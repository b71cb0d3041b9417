from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rarebridge.core"
    label = "core"
