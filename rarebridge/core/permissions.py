"""The role-to-permission table: the one place that says which role may do what.

Selectors combine this table with the *scope* of a role assignment (the organisation or
site it was given for, or the patients assigned to a counsellor) to answer object-level
questions. Views and templates never test roles directly.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PATIENT = "patient"
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    SITE_COORDINATOR = "site_coordinator"
    TRIAL_MANAGER = "trial_manager"
    CARE_COORDINATOR = "care_coordinator"
    PROGRAM_ADMIN = "program_admin"


# Everyone but patients works with other people's data and must enrol MFA first.
STAFF_ROLES = frozenset(Role) - {Role.PATIENT}

# Reach: which sites a role assignment covers. Roles given for one site reach that site only,
# unless the assignment says ``organisation_wide``; the roles organisation-wide by nature reach
# every site of their organisation. Counsellors reach the patients assigned to them.
# ``accounts.selectors.site_ids_for`` is the one place that computes it.
SITE_SCOPED_ROLES = frozenset({Role.SITE_COORDINATOR, Role.SUPERVISOR})
ORGANISATION_WIDE_ROLES = frozenset({Role.TRIAL_MANAGER, Role.CARE_COORDINATOR, Role.PROGRAM_ADMIN})


class Perm(StrEnum):
    PATIENT_VIEW = "patient.view"
    PATIENT_CHANGE = "patient.change"
    AUDIT_VIEW = "audit.view"
    PEOPLE_INVITE = "people.invite"
    CRISIS_CHANGE = "crisis.change"
    PROGRAM_VIEW = "program.view"
    CONCERN_RAISE = "concern.raise"  # raise a concern about a patient in reach
    ALERT_HANDLE = "alert.handle"  # receive, acknowledge and close alerts
    SUPERVISION_ATTEND = "supervision.attend"  # be listed as attending supervision
    SUPERVISION_VIEW = "supervision.view"  # the supervisor dashboard and supervision meetings
    COUNSELLING_MANAGE = "counselling.manage"  # training records, certification, reassignment
    DIRECTORY_VERIFY = "directory.verify"  # verify, edit and reject directory entries
    PEER_MODERATE = "peer.moderate"  # the peer-finder report queue
    CARE_VIEW = "care.view"  # care teams, case plans, clinic days and itineraries
    CARE_MANAGE = "care.manage"  # change them: plan clinics, travel, letters, checklists
    CLINICAL_NOTES_VIEW = (
        "care.clinical_notes"  # read clinical care notes (role on the team permitting)
    )
    STUDY_VIEW = "study.view"  # study dashboards: recruitment, CONSORT numbers, completeness
    STUDY_MANAGE = "study.manage"  # load studies, import allocation tables, see slot counts
    PARTICIPANT_SCREEN = "participant.screen"  # refer, screen, consent and countersign
    PARTICIPANT_RANDOMISE = "participant.randomise"  # allocate a consented participant
    DATA_ENTRY = "data.entry"  # enter questionnaire answers on a participant's behalf
    OWN_PROGRAM = "program.own"  # follow one's own program: weeks, exercises, calls, goals
    CASELOAD = "counselling.caseload"  # counsel: caseload, availability, notes, booking for
    OWN_CALLS = "calls.own"  # have calls of one's own: reminders, a private calendar link
    OWN_CARE = "care.own"  # one's own studies, clinic days and the peer finder, as a patient


# Which patients a role reaches with PATIENT_VIEW/PATIENT_CHANGE:
#   "assigned" - patients assigned to this counsellor
#   "site"     - patients of the sites the assignment reaches (its site; every site of the
#                organisation when organisation-wide, by the flag or by the role's nature)
PATIENT_REACH: dict[Role, str] = {
    Role.COUNSELLOR: "assigned",
    Role.SUPERVISOR: "site",
    Role.SITE_COORDINATOR: "site",
    Role.TRIAL_MANAGER: "site",
    Role.CARE_COORDINATOR: "site",
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.PATIENT: frozenset({Perm.OWN_PROGRAM, Perm.OWN_CALLS, Perm.OWN_CARE}),
    Role.COUNSELLOR: frozenset(
        {
            Perm.PATIENT_VIEW,
            Perm.CONCERN_RAISE,
            Perm.SUPERVISION_ATTEND,
            Perm.CASELOAD,
            Perm.OWN_CALLS,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Perm.PATIENT_VIEW,
            Perm.CARE_VIEW,
            Perm.CLINICAL_NOTES_VIEW,
            Perm.AUDIT_VIEW,
            Perm.PROGRAM_VIEW,
            Perm.SUPERVISION_VIEW,
            Perm.COUNSELLING_MANAGE,
            Perm.CONCERN_RAISE,
            Perm.ALERT_HANDLE,
        }
    ),
    Role.SITE_COORDINATOR: frozenset(
        {
            Perm.PATIENT_VIEW,
            Perm.PATIENT_CHANGE,
            Perm.PEOPLE_INVITE,
            Perm.COUNSELLING_MANAGE,
            Perm.STUDY_VIEW,
            Perm.PARTICIPANT_SCREEN,
            Perm.PARTICIPANT_RANDOMISE,
            Perm.DATA_ENTRY,
        }
    ),
    Role.TRIAL_MANAGER: frozenset(
        {
            Perm.PATIENT_VIEW,
            Perm.AUDIT_VIEW,
            Perm.PEOPLE_INVITE,
            Perm.STUDY_VIEW,
            Perm.STUDY_MANAGE,
            Perm.PARTICIPANT_SCREEN,
            Perm.PARTICIPANT_RANDOMISE,
        }
    ),
    Role.CARE_COORDINATOR: frozenset(
        {
            Perm.PATIENT_VIEW,
            Perm.PATIENT_CHANGE,
            Perm.CARE_VIEW,
            Perm.CARE_MANAGE,
            Perm.CLINICAL_NOTES_VIEW,
        }
    ),
    Role.PROGRAM_ADMIN: frozenset(
        {
            Perm.AUDIT_VIEW,
            Perm.PEOPLE_INVITE,
            Perm.CRISIS_CHANGE,
            Perm.PROGRAM_VIEW,
            Perm.COUNSELLING_MANAGE,
            Perm.DIRECTORY_VERIFY,
            Perm.PEER_MODERATE,
        }
    ),
}

# Which roles each inviting role may hand out.
INVITABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.SITE_COORDINATOR: frozenset({Role.PATIENT}),
    Role.TRIAL_MANAGER: frozenset({Role.PATIENT, Role.SITE_COORDINATOR}),
    Role.PROGRAM_ADMIN: frozenset(Role),
}


def role_has(role: Role | str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS[Role(role)]


def user_has_perm(user, perm: Perm) -> bool:
    """Whether any of the person's active roles carries ``perm`` (scope is the selectors' job)."""
    return bool(user.is_authenticated) and any(role_has(a.role, perm) for a in user.active_roles())
