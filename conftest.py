"""Root conftest. Settings pick RAREBRIDGE_ENV=test under pytest (see config/settings.py)."""

import os

# Playwright's sync API runs an event loop in the test thread; the ORM calls that browser
# tests make around it are synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Speed goals live in bench/, not in tests: no per-example deadline, so a loaded machine (CI
# shares two cores) cannot fail a property test that is correct.
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("rarebridge", deadline=None)
_hypothesis_settings.load_profile("rarebridge")
