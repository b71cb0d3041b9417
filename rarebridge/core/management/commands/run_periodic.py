"""Run the periodic jobs once (cron or a systemd timer calls this every minute in production)."""

from django.core.management.base import BaseCommand

from rarebridge.core.periodic import run_periodic_jobs


class Command(BaseCommand):
    help = "Run every job in settings.PERIODIC_JOBS once."

    def handle(self, *args, **options):
        for path, result in run_periodic_jobs().items():
            self.stdout.write(f"{path}: {result}")
