from django.apps import AppConfig


class PortalsConfig(AppConfig):
    name = "rarebridge.portals"
    label = "portals"
