"""Print the current authenticator code of a demo staff member (demo only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rarebridge.accounts.mfa import demo_totp_secret, totp_code


class Command(BaseCommand):
    help = "Show the current six-digit code for a demo staff address."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo codes do not exist in production.")
        self.stdout.write(totp_code(demo_totp_secret(email)))
