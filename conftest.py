"""Root conftest. Settings pick RAREBRIDGE_ENV=test under pytest (see config/settings.py)."""

import os

# Playwright's sync API runs an event loop in the test thread; the ORM calls that browser
# tests make around it are synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
