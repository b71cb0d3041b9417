"""Import Orphanet's nomenclature: ``manage.py import_orphanet FILE [FILE …] [--language xx]``.

Give every file of one release at once (product1 in each language, the classification files,
or the ORPHAcode JSON pack): records are merged by ORPHAcode before anything is written, and
the whole import is one transaction. Running it again with the same files changes nothing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from rarebridge.conditions.orphanet import OrphanetFormatError, read_files
from rarebridge.conditions.services import conditions_import


class Command(BaseCommand):
    help = "Import Orphanet nomenclature files (XML products or ORPHAcode JSON)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--language",
            help="Language of files whose records do not say (default: from the name).",
        )
        parser.add_argument("--source", default="orphanet")

    @scopes_disabled()  # the catalogue is shared reference data, not one organisation's
    def handle(self, *args, files, language=None, source="orphanet", **options):
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise CommandError(f"No such file: {', '.join(missing)}")
        try:
            records = read_files(files, language=language)
        except OrphanetFormatError as exc:
            raise CommandError(str(exc)) from exc
        result = conditions_import(records=records, source=source)
        self.stdout.write(
            f"{len(records)} records: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.skipped} skipped, "
            f"{result.parent_links} parent links."
        )
