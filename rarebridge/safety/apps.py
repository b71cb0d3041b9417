from django.apps import AppConfig


class SafetyConfig(AppConfig):
    """Concerns, alerts, escalation and supervision: a risk always reaches a human."""

    name = "rarebridge.safety"
    label = "safety"

    def ready(self) -> None:
        # Every submitted risk answer reaches a person, whichever app gave the questionnaire.
        from rarebridge.instruments.services import risk_hook_register
        from rarebridge.safety.services.questionnaires import risk_response_alert

        risk_hook_register(risk_response_alert)
