from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    """Conditions, patient organisations and support groups, and the consented peer finder."""

    name = "rarebridge.directory"
    label = "directory"
