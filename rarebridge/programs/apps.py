from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "rarebridge.programs"
    label = "programs"
