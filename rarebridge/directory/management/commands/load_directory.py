"""Load the catalogue and directory content: ``manage.py load_directory [--demo]``."""

from django.core.management.base import BaseCommand
from django_scopes import scopes_disabled

from rarebridge.conditions.services import catalogue_content_load
from rarebridge.directory.services import directory_content_load, directory_demo_load


class Command(BaseCommand):
    help = "Load content/conditions and content/directory (and, with --demo, the demo peers). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo", action="store_true", help="Also give demo patients conditions and peers."
        )

    @scopes_disabled()  # shared reference content, and with --demo every organisation's patients
    def handle(self, *args, demo=False, **options):
        if demo:
            result = directory_demo_load()
        else:
            result = catalogue_content_load().as_dict()
            result["entries_created"] = directory_content_load()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
