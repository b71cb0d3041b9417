"""Run the web server with the task worker in the same process (the embedded default).

Production runs gunicorn and ``manage.py db_worker`` as separate processes instead; this
command exists so that ``make demo`` needs nothing but Python.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tasks_db.management.commands.db_worker import Worker

logger = logging.getLogger(__name__)


def _sweeper(stop: threading.Event) -> None:
    """The periodic jobs of the embedded deployment (retries, escalations, reminders)."""
    from rarebridge.core.periodic import run_periodic_jobs

    while not stop.wait(settings.PERIODIC_SECONDS):
        run_periodic_jobs()


class Command(BaseCommand):
    help = "Serve RareBridge on ADDR:PORT with an in-process task worker."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        worker = Worker(
            queue_names=["*"],
            interval=1,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="in-process",
            excluded_queue_names=[],
        )
        stop = threading.Event()
        threading.Thread(target=worker.run, name="task-worker", daemon=True).start()
        threading.Thread(target=_sweeper, args=(stop,), name="sweeper", daemon=True).start()
        time.sleep(0.1)
        try:
            call_command("runserver", addrport, use_reloader=False, use_threading=True)
        finally:
            worker.running = False
            stop.set()
