"""Every write of the safety net, one module per process:

- ``chain``: who is told (the escalation chain of a site) and its configuration;
- ``alerts``: concerns and alerts, escalation, acknowledging and closing;
- ``questionnaires``: risk answers in questionnaires (the instruments' risk hook);
- ``supervision``: supervision meetings.

Callers import from ``rarebridge.safety.services``; every public name is here.
"""

from rarebridge.safety.services.alerts import (
    ALERT_CHANNELS,
    ESCALATE_BATCH,
    OBSERVED_MAX_LENGTH,
    alert_acknowledge,
    alert_close,
    alerts_escalate_due,
    concern_raise,
)
from rarebridge.safety.services.chain import (
    Chain,
    escalation_chain,
    on_duty_add,
    on_duty_for_site,
    responder_add,
)
from rarebridge.safety.services.questionnaires import (
    risk_response_alert,
    unsubmitted_risk_alerts_due,
)
from rarebridge.safety.services.supervision import supervision_meeting_record

__all__ = [
    "ALERT_CHANNELS",
    "ESCALATE_BATCH",
    "OBSERVED_MAX_LENGTH",
    "Chain",
    "alert_acknowledge",
    "alert_close",
    "alerts_escalate_due",
    "concern_raise",
    "escalation_chain",
    "on_duty_add",
    "on_duty_for_site",
    "responder_add",
    "risk_response_alert",
    "supervision_meeting_record",
    "unsubmitted_risk_alerts_due",
]
