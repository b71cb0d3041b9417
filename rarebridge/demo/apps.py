from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo world and the embedded server: never needed in production."""

    name = "rarebridge.demo"
    label = "demo"
