from django.apps import AppConfig


class ConditionsConfig(AppConfig):
    """The ORPHAcode catalogue of conditions, and the conditions people live with."""

    name = "rarebridge.conditions"
    label = "conditions"
