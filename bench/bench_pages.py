"""Server time of the busiest patient and staff pages on the demo world.

Builds a fresh demo database in a temporary folder (SQLite), signs in as a demo patient in
week 3 and times Django's full request cycle through the test client.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import Benchmark

_tmp = tempfile.mkdtemp(prefix="rarebridge-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.setdefault("RAREBRIDGE_VAR_DIR", _tmp)
NEEDS_DJANGO = True
_state: dict = {}


def _client(email: str):
    from django.core.management import call_command
    from django.test import Client
    from django_scopes import scopes_disabled

    from rarebridge.accounts.models import User

    if "seeded" not in _state:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0)
        _state["seeded"] = True
    client = Client()
    with scopes_disabled():
        client.force_login(User.objects.get(email=email))
    return client


def _page(email: str, url_name: str, *args):
    def setup():
        from django.urls import reverse

        client = _client(email)
        url = reverse(url_name, args=args)
        assert client.get(url).status_code == 200
        return client, url

    def run(state):
        client, url = state
        client.get(url)

    return setup, run


def _bench(name: str, email: str, url_name: str, *args) -> Benchmark:
    setup, run = _page(email, url_name, *args)
    return Benchmark(name=name, setup=setup, run=run, repeat=50, goal_seconds=0.05)


# patient03 of Hamburg started two weeks ago (seed_demo: 7 x (n mod 7) days).
BENCHMARKS = [
    _bench(
        "patient 'This week' page (demo, 150 enrolments)",
        "patient03.de@rarebridge.test",
        "patient:home",
    ),
    _bench("patient chapter page, week 2", "patient03.de@rarebridge.test", "patient:week", 2),
    _bench(
        "patient exercise page (repeating rows)",
        "patient03.de@rarebridge.test",
        "patient:exercise",
        "emotion-diary",
    ),
    _bench("counsellor caseload", "counsellor1.de@rarebridge.test", "counsellor:home"),
    _bench(
        "staff patient list (supervisor, 200 patients)",
        "supervisor.de@rarebridge.test",
        "staff:patients",
    ),
]
