"""Map an external SDC questionnaire onto one of ours: ``manage.py import_questionnaire FILE --as phq9``."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rarebridge.instruments.external import ExternalError
from rarebridge.instruments.services import external_questionnaire_import


class Command(BaseCommand):
    help = "Import an external (SDC) Questionnaire and map its items and answers onto one of our instruments."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="instrument", required=True)

    def handle(self, *args, file, instrument, **options):
        try:
            row = external_questionnaire_import(
                data=json.loads(file.read_text(encoding="utf-8")), instrument=instrument
            )
        except (ExternalError, json.JSONDecodeError, FileNotFoundError) as exc:
            raise CommandError(f"{file}: not imported. {exc}") from exc
        self.stdout.write(f"{row}: {len(row.link_ids)} items mapped")
