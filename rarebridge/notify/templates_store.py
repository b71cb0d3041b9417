"""Message templates: files under content/messages/<language>/<key>.<channel>.txt.

An e-mail file starts with a ``Subject:`` line, then a blank line, then the body. Bodies use
Django template syntax without HTML escaping (they are plain text). Loading stores each file
in the database with a checksum, so program admins see what is in use and a changed file is
picked up by the next load.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.db import transaction

from rarebridge.notify.models import MessageTemplate

CONTENT_DIR = Path(settings.BASE_DIR) / "content" / "messages"


class TemplateMissing(LookupError):
    pass


def parse_template_file(text: str, channel: str) -> tuple[str, str]:
    subject = ""
    if channel == "email":
        first, _sep, rest = text.partition("\n")
        if not first.startswith("Subject:"):
            raise ValueError("An e-mail template must start with a 'Subject:' line.")
        subject = first.removeprefix("Subject:").strip()
        text = rest.lstrip("\n")
    return subject, text.rstrip() + "\n"


@transaction.atomic
def load_message_templates(directory: Path = CONTENT_DIR) -> int:
    """Load every template file; returns how many rows changed. Safe to run again."""
    changed = 0
    for path in sorted(directory.glob("*/*.txt")):
        language = path.parent.name
        key, _dot, channel = path.stem.rpartition(".")
        text = path.read_text(encoding="utf-8")
        subject, body = parse_template_file(text, channel)
        checksum = hashlib.sha256(text.encode()).hexdigest()
        _row, _created = MessageTemplate.objects.update_or_create(
            key=key,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body, "checksum": checksum},
        )
        changed += 1
    return changed


def get_template(key: str, channel: str, language: str) -> MessageTemplate:
    """The template in the person's language, else English; loads files on first use."""
    for attempt in range(2):
        rows = {
            t.language: t
            for t in MessageTemplate.objects.filter(
                key=key, channel=channel, language__in=[language, "en"]
            )
        }
        if language in rows:
            return rows[language]
        if "en" in rows:
            return rows["en"]
        if attempt == 0:
            load_message_templates()
    raise TemplateMissing(f"No template {key}.{channel} in {language} or en.")
