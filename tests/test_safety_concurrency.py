"""Escalation under real concurrency (PostgreSQL): two workers running the job at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_scopes import scopes_disabled

from rarebridge.safety.models import Alert, AlertNotification
from rarebridge.safety.services import alert_acknowledge, alerts_escalate_due, concern_raise
from tests.conftest import staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(workers):
    """Start every worker at the same instant; return what each returned or raised."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(index, work):
        try:
            with scopes_disabled():
                barrier.wait()
                results[index] = work()
        except Exception as exc:  # the point is to see which one lost
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _overdue_alert(cast) -> Alert:
    from rarebridge.core.permissions import Role

    staff(Role.SUPERVISOR, cast.org, cast.site, full_name="Sofia Second")
    concern = concern_raise(patient=cast.patient, level="high", observed="x", by=cast.counsellor)
    with scopes_disabled():
        Alert.objects.filter(concern=concern).update(due_at=timezone.now() - timedelta(minutes=1))
        return Alert.objects.get(concern=concern)


def test_it_escalates_once_when_two_workers_run_the_job_at_once(cast):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL")
    alert = _overdue_alert(cast)
    results = _race([alerts_escalate_due, alerts_escalate_due, alerts_escalate_due])
    assert sorted(results) == [0, 0, 1], results
    with scopes_disabled():
        assert AlertNotification.objects.filter(alert=alert, step=1).count() == 1
        alert.refresh_from_db()
        assert alert.step == 1


def test_it_never_escalates_past_an_acknowledgement_that_won_the_race(cast):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL")
    alert = _overdue_alert(cast)
    results = _race(
        [alerts_escalate_due, lambda: alert_acknowledge(alert=alert, by=cast.supervisor)]
    )
    assert not any(isinstance(r, Exception) for r in results), results
    with scopes_disabled():
        alert.refresh_from_db()
        assert alert.status == "acknowledged"
        assert alert.step == results[0]  # escalated first (1) or not at all (0)
        assert alerts_escalate_due() == 0
