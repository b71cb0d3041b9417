"""Map an external SDC questionnaire onto one of ours:
``manage.py import_questionnaire FILE --as phq9 [--map MAPPING.json]``.

Every refusal is one line naming the file and the reason (never a traceback): not UTF-8, not
JSON, a JSON array, not a Questionnaire, an item without linkId, an unknown instrument, an item
or answer that matches nothing of ours.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rarebridge.instruments.content import CONTENT_DIR
from rarebridge.instruments.external import ExternalError
from rarebridge.instruments.services import external_questionnaire_import


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: not imported. It cannot be read ({exc.strerror}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"{path}: not imported. It is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{path}: not imported. It is not valid JSON ({exc.msg}, line {exc.lineno})."
        ) from None


def known_instruments() -> list[str]:
    return sorted(p.parent.name for p in (CONTENT_DIR / "instruments").glob("*/questionnaire.json"))


class Command(BaseCommand):
    help = "Import an external (SDC) Questionnaire and map its items and answers onto one of our instruments."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="instrument", required=True)
        parser.add_argument(
            "--map",
            dest="mapping",
            type=Path,
            help="JSON object: external linkId -> our linkId, for items without codes",
        )

    def handle(self, *args, file, instrument, mapping=None, **options):
        known = known_instruments()
        if instrument not in known:
            raise CommandError(
                f"{file}: not imported. Unknown instrument {instrument!r}; "
                f"known: {', '.join(known)}."
            )
        data = _read_json(file)
        link_map = None
        if mapping is not None:
            link_map = _read_json(mapping)
            if not isinstance(link_map, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in link_map.items()
            ):
                raise CommandError(
                    f"{mapping}: not used. A mapping file is a JSON object of "
                    '"external linkId": "our linkId".'
                )
        try:
            row = external_questionnaire_import(data=data, instrument=instrument, link_map=link_map)
        except ExternalError as exc:
            raise CommandError(f"{file}: not imported. {exc}") from None
        self.stdout.write(f"{row}: {len(row.link_ids)} items mapped")
