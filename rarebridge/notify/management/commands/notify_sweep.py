"""Re-queue deliveries that are due for a retry or stuck after a worker died. Run every minute."""

from django.core.management.base import BaseCommand

from rarebridge.notify.services import messages_requeue_due


class Command(BaseCommand):
    help = "Queue messages due for a retry, and messages a dead worker left in 'sending'."

    def handle(self, *args, **options):
        count = messages_requeue_due()
        self.stdout.write(f"Queued {count} message(s).")
