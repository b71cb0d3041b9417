"""Periodic jobs named in settings.PERIODIC_JOBS: idempotent functions without arguments."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string
from django_scopes import scopes_disabled

logger = logging.getLogger(__name__)


def run_periodic_jobs() -> dict[str, object]:
    """Run every job once; a failing job is logged and never stops the others."""
    results: dict[str, object] = {}
    for path in settings.PERIODIC_JOBS:
        try:
            with scopes_disabled():  # jobs act for the whole platform, across organisations
                results[path] = import_string(path)()
        except Exception:
            logger.exception("Periodic job %s failed", path)
            results[path] = "failed"
        finally:
            close_old_connections()
    return results
