"""Every write of a study: loading it, screening, consent, randomisation, answers, withdrawal.

The order of a participant's way through a study is enforced here, not in pages: consent
before baseline, a complete baseline (T0) before randomisation, and no questionnaire
invitations after withdrawal from them.

One module per sub-domain; they import each other in one direction only
(studies → randomisation → assessments → enrolment; consent → assessments) and never the
portals. The names below are the public ones, so callers import from
``rarebridge.trials.services``. Every service takes the acting person as ``by`` (an
:class:`~rarebridge.core.actor.Actor` or a user), never the HTTP request.
"""

from rarebridge.trials.services.assessments import (
    SaveResult,
    SubmitResult,
    assessment_invitations_due,
    assessment_is_open,
    response_for,
    response_save,
    response_submit,
    schedule_assessments,
    timepoint_instruments,
)
from rarebridge.trials.services.consent import consent_countersign, consent_pdf, consent_sign
from rarebridge.trials.services.enrolment import RandomisationRefused
from rarebridge.trials.services.randomisation import (
    SEQUENCE_CHUNK,
    allocation_secret,
    allocation_table_load,
    participant_randomise,
    randomisation_blockers,
)
from rarebridge.trials.services.studies import (
    Contact,
    ScreeningOutcome,
    eligibility_reasons,
    participant_email_confirmation_resend,
    participant_email_correct,
    screening_record,
    study_load,
)
from rarebridge.trials.services.withdrawal import participant_withdraw

__all__ = [
    "SEQUENCE_CHUNK",
    "Contact",
    "RandomisationRefused",
    "SaveResult",
    "ScreeningOutcome",
    "SubmitResult",
    "allocation_secret",
    "allocation_table_load",
    "assessment_invitations_due",
    "assessment_is_open",
    "consent_countersign",
    "consent_pdf",
    "consent_sign",
    "eligibility_reasons",
    "participant_email_confirmation_resend",
    "participant_email_correct",
    "participant_randomise",
    "participant_withdraw",
    "randomisation_blockers",
    "response_for",
    "response_save",
    "response_submit",
    "schedule_assessments",
    "screening_record",
    "study_load",
    "timepoint_instruments",
]
