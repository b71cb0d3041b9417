"""Where the directory's content lives."""

from pathlib import Path

from django.conf import settings

CONTENT_DIR = Path(settings.BASE_DIR) / "content"
DIRECTORY_FILE = CONTENT_DIR / "directory" / "entries.json"
COUNTRIES_FILE = CONTENT_DIR / "directory" / "countries.json"
MESSAGES_DIR = CONTENT_DIR / "directory" / "messages"
