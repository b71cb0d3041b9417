from django.apps import AppConfig


class TrialsConfig(AppConfig):
    """Studies, screening, consent, randomisation, the assessment schedule and withdrawal."""

    name = "rarebridge.trials"
    label = "trials"
