from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "rarebridge.network"
    label = "network"
