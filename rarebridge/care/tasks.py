"""Background tasks of care. Each re-reads the state when it runs and is idempotent.

Each task is declared next to the work it runs, so that the service queueing it needs nothing
from here (no import goes back from the services to this module); the worker and callers find
them all here.

- ``plan_clinic`` (``services.clinic_planning``): plan a clinic from scratch;
- ``replan_clinic`` (``services.clinic_replanning``): re-plan a clinic around the changes
  recorded.
"""

from __future__ import annotations

from rarebridge.care.services.clinic_planning import plan_clinic
from rarebridge.care.services.clinic_replanning import replan_clinic

__all__ = ["plan_clinic", "replan_clinic"]
