"""Load a study file: ``manage.py load_study content/studies/qrare-demo.json``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from rarebridge.network.models import Organisation
from rarebridge.trials.content import StudyFileError
from rarebridge.trials.services import study_load


class Command(BaseCommand):
    help = "Check and load a study definition (arms, sites, consent, timepoints, allocation)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--organisation", help="organisation slug (default: the file's)")

    def handle(self, *args, path: Path, organisation: str | None = None, **options):
        # A command acts for the platform: it names the organisation explicitly.
        with scopes_disabled():
            org = None
            if organisation:
                org = Organisation.objects.filter(slug=organisation).first()
                if org is None:
                    raise CommandError(f"No organisation {organisation!r}.")
            try:
                study, outcome = study_load(path=path, organisation=org)
            except StudyFileError as error:
                raise CommandError("\n".join(error.problems)) from error
        self.stdout.write(self.style.SUCCESS(f"{study.slug}: {outcome}"))
