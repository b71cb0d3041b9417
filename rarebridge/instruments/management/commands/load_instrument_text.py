"""Load a licensee's wording: ``manage.py load_instrument_text sf12v1 de wording.json``."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rarebridge.instruments.external import ExternalError
from rarebridge.instruments.services import instrument_text_load


class Command(BaseCommand):
    help = "Load licensed or official wording of one instrument in one language (stored in the database only)."

    def add_arguments(self, parser):
        parser.add_argument("instrument")
        parser.add_argument("language")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--official", action="store_true", help="public-domain official translation"
        )

    def handle(self, *args, instrument, language, file, official, **options):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            row, created, left = instrument_text_load(
                instrument=instrument, language=language, data=data, official=official
            )
        except (ExternalError, json.JSONDecodeError, FileNotFoundError) as exc:
            raise CommandError(f"{file}: nothing was loaded. {exc}") from exc
        self.stdout.write(f"{row}: {'loaded' if created else 'already loaded, nothing changed'}")
        if left:
            self.stdout.write(
                f"Still placeholders, so {language} is not offered yet: {', '.join(left)}"
            )
