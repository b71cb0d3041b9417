from django.apps import AppConfig


class SafetyConfig(AppConfig):
    """Concerns, alerts, escalation and supervision: a risk always reaches a human."""

    name = "rarebridge.safety"
    label = "safety"
