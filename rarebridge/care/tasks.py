"""Background tasks of care. Each re-reads the state when it runs and is idempotent."""

from __future__ import annotations

from django_scopes import scopes_disabled
from django_tasks import task

from rarebridge.care.services import clinic_plan_run, clinic_replan_run


@task()
def plan_clinic(clinic_id: int, since: str, by_id: int | None = None) -> str:
    # A task has no request and no person's scope; it touches only the clinic it was given.
    with scopes_disabled():
        return clinic_plan_run(clinic_id=clinic_id, since=since, by_id=by_id)


@task()
def replan_clinic(replan_id: int) -> str:
    # Re-plans every change of the clinic still queued; a second run finds them done.
    with scopes_disabled():
        return clinic_replan_run(replan_id=replan_id)
