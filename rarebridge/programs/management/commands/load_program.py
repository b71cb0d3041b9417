"""Check and load a program version folder: ``manage.py load_program content/programs/<slug>/<version>``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from rarebridge.programs.content import ContentError
from rarebridge.programs.services import VersionFrozen, program_version_load


class Command(BaseCommand):
    help = "Validate a program version folder and load it. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="+", type=Path)

    @scopes_disabled()  # a command loads shared content, not one organisation's data
    def handle(self, *args, path, **options):
        for folder in path:
            try:
                version, outcome = program_version_load(path=folder)
            except ContentError as exc:
                for problem in exc.problems:
                    self.stderr.write(str(problem))
                raise CommandError(
                    f"{folder}: {len(exc.problems)} problem(s); nothing was loaded."
                ) from exc
            except VersionFrozen as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{version}: {outcome} ({', '.join(version.languages)})")
