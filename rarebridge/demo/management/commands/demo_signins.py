"""Print the demo sign-ins: addresses, the shared password and each staff member's TOTP secret."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rarebridge.accounts.mfa import demo_totp_secret
from rarebridge.demo.management.commands.seed_demo import DEMO_PASSWORD, DOMAIN, demo_staff


class Command(BaseCommand):
    help = "List the demo sign-ins (demo only)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("There are no demo sign-ins in production.")
        out = self.stdout.write
        out("")
        out("RareBridge demo — open http://127.0.0.1:8000 and sign in.")
        out(f"Every demo account's password: {DEMO_PASSWORD}")
        out("Staff also need a code from an authenticator app (add the secret below), or run")
        out("  .venv/bin/python manage.py demo_totp <e-mail>")
        out("")
        out(f"{'role':<18} {'e-mail':<34} TOTP secret")
        for email, _name, role, _site in demo_staff():
            out(f"{role.value:<18} {email:<34} {demo_totp_secret(email)}")
        out(
            f"{'patient':<18} patient01.de@{DOMAIN} … patient40.hu@{DOMAIN} (sites de, ca, be, pl, hu)"
        )
        out("")
