from django.apps import AppConfig


class CareConfig(AppConfig):
    """Care teams, case plans, one-stop clinic days, itineraries, travel, letters."""

    name = "rarebridge.care"
    label = "care"
