from django.apps import AppConfig


class InstrumentsConfig(AppConfig):
    """Questionnaires: their definitions and wording, people's answers, and the scores."""

    name = "rarebridge.instruments"
    label = "instruments"
