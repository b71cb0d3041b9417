from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from rarebridge.core.models import AuditEntry
from rarebridge.core.permissions import Role
from rarebridge.counselling.models import Assignment, Call, MatchDecline
from rarebridge.counselling.services import (
    availability_rule_add,
    call_book,
    certification_grant_unchecked,
    counsellor_profile_upsert,
    match_request_change,
)
from rarebridge.notify.models import Message
from rarebridge.programs.services import enrolment_start, program_version_load
from tests.conftest import staff

SOURCE = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def waiting(cast):
    """Two counsellors in Hamburg (one speaks Polish too); two patients enrolled and waiting,
    one in Hamburg, one in Toronto. Matching across the two sites needs both an organisation
    that allows cross-border pairs and someone who reaches both sites: here the supervisor,
    whose assignment is organisation-wide."""
    cast.org.cross_border_matching = True
    cast.org.save()
    cast.supervisor.role_assignments.update(organisation_wide=True)
    cast.supervisor.__dict__.pop("_active_roles", None)
    with time_machine.travel(NOW, tick=False):
        version, _ = program_version_load(path=SOURCE)
        Assignment.objects.all().delete()
        second = staff(
            Role.COUNSELLOR,
            cast.org,
            cast.site,
            full_name="Paula Polish",
            email="paula@example.org",
        )
        profiles = []
        for user, languages in ((cast.counsellor, ["de", "en"]), (second, ["pl", "en"])):
            profile = counsellor_profile_upsert(
                user=user,
                organisation_id=cast.org.pk,
                country_id="DE",
                languages=languages,
                capacity=3,
            )
            for weekday in range(5):
                availability_rule_add(
                    counsellor=profile, weekday=weekday, start=time(9), end=time(18), by=user
                )
            certification_grant_unchecked(counsellor=profile, by=None)
            profiles.append(profile)
        cast.patient.user.language = "pl"
        cast.patient.user.save()
        for patient in (cast.patient, cast.other_patient):
            enrolment_start(patient=patient, version=version, start_date=date(2026, 3, 2))
        yield type("W", (), {"profiles": profiles, "version": version, "second": second})


def test_it_suggests_counsellors_with_reasons_and_accepts_one(
    cast, as_user, waiting, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        client = as_user(cast.coordinator)
        html = client.get(reverse("staff:matching")).content.decode()
        assert (
            cast.patient.code in html and "Shares a language: pl" in html and "Paula Polish" in html
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("staff:matching"),
                {
                    "action": "accept",
                    "patient": cast.patient.pk,
                    "counsellor": waiting.profiles[1].pk,
                    "slot": _slot_of(html, cast.patient.pk, waiting.profiles[1].pk),
                },
            )
        assert response.status_code == 302
    assert Assignment.objects.get(patient=cast.patient).counsellor == waiting.second
    assert Message.objects.filter(
        template_key="match_made_patient", recipient=cast.patient.user
    ).exists()
    assert Message.objects.filter(
        template_key="match_made_counsellor", recipient=waiting.second
    ).exists()
    assert AuditEntry.objects.filter(
        action="counselling.match.accepted", actor=cast.coordinator
    ).exists()


def _slot_of(html: str, patient_pk: int, counsellor_pk: int) -> str:
    """The signed weekly time of one suggestion on the matching page."""
    for form in html.split("<form")[1:]:
        if (
            f'name="patient" value="{patient_pk}"' in form
            and f'name="counsellor" value="{counsellor_pk}"' in form
            and 'name="slot"' in form
        ):
            return form.split('name="slot" value="')[1].split('"')[0]
    raise AssertionError("no such suggestion")


def _token_of(html: str) -> str:
    return html.split('name="token" value="')[1].split('"')[0]


def test_it_matches_everyone_waiting_in_one_go(cast, as_user, waiting):
    with time_machine.travel(NOW, tick=False):
        client = as_user(cast.supervisor)
        preview = client.post(reverse("staff:matching"), {"action": "preview"}).content.decode()
        client.post(reverse("staff:matching"), {"action": "confirm", "token": _token_of(preview)})
    pairs = {a.patient_id: a.counsellor for a in Assignment.objects.filter(ended_at__isnull=True)}
    assert pairs[cast.patient.pk] == waiting.second  # the only Polish speaker
    assert cast.other_patient.pk in pairs


def test_it_needs_a_reason_to_override_and_audits_it(cast, as_user, waiting):
    with time_machine.travel(NOW, tick=False):
        client = as_user(cast.coordinator)
        client.post(
            reverse("staff:matching"),
            {
                "action": "override",
                "patient": cast.patient.pk,
                "counsellor": waiting.profiles[0].pk,
                "reason": "",
            },
        )
        assert not Assignment.objects.exists()
        client.post(
            reverse("staff:matching"),
            {
                "action": "override",
                "patient": cast.patient.pk,
                "counsellor": waiting.profiles[0].pk,
                "reason": "Knows the family's situation",
            },
        )
    entry = AuditEntry.objects.get(action="counselling.match.overridden")
    assert entry.payload["override_reason"] == "Knows the family's situation"


def test_it_explains_who_cannot_be_matched_and_what_would_help(cast, as_user, waiting):
    cast.patient.user.language = "hu"
    cast.patient.user.save()
    with time_machine.travel(NOW, tick=False):
        html = as_user(cast.coordinator).get(reverse("staff:matching")).content.decode()
    assert "Nobody fits at the moment." in html and "Recruit a counsellor who speaks hu" in html


def test_it_rematches_on_request_without_losing_the_call_history(cast, waiting):
    with time_machine.travel(NOW, tick=False):
        from rarebridge.counselling.services import match_accept
        from rarebridge.programs.models import Enrolment

        match_accept(patient=cast.patient, counsellor=waiting.second, by=cast.coordinator)
        enrolment = Enrolment.objects.get(patient=cast.patient)
        call = call_book(
            enrolment=enrolment,
            counsellor=waiting.profiles[1],
            starts_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
            week=1,
            by=cast.patient.user,
        )
        match_request_change(
            patient=cast.patient, by=cast.patient.user, reason="Would prefer someone older"
        )
    call.refresh_from_db()
    assert (
        call.status == "cancelled" and Call.objects.filter(patient=cast.patient).count() == 1
    )  # kept, not deleted
    assert MatchDecline.objects.get(patient=cast.patient).counsellor == waiting.second
    with time_machine.travel(NOW, tick=False):
        from rarebridge.counselling.selectors import matching_overview

        rows = {r["patient"].pk: r for r in matching_overview(user=cast.coordinator)}
    assert waiting.second.full_name not in [s["name"] for s in rows[cast.patient.pk]["suggestions"]]


def test_it_puts_a_leaving_counsellors_patients_back_on_the_list(cast, as_user, waiting):
    with time_machine.travel(NOW, tick=False):
        from rarebridge.counselling.services import match_accept

        match_accept(patient=cast.other_patient, counsellor=cast.counsellor, by=cast.supervisor)
        as_user(cast.coordinator).post(
            reverse("staff:counsellor_deactivate", args=[waiting.profiles[0].pk]),
            {"reason": "moved away"},
        )
        from rarebridge.counselling.selectors import waiting_patients_for_user

        assert cast.other_patient in list(waiting_patients_for_user(user=cast.supervisor))


def test_it_keeps_the_matching_screen_from_other_roles(cast, as_user, waiting):
    assert as_user(cast.counsellor).get(reverse("staff:matching")).status_code == 403
    assert as_user(cast.patient.user).get(reverse("staff:matching")).status_code == 404
    assert as_user(cast.outsider).get(reverse("staff:matching")).status_code == 200
    assert (
        cast.patient.code
        not in as_user(cast.outsider).get(reverse("staff:matching")).content.decode()
    )


def test_it_lets_a_patient_state_wishes_and_ask_for_a_change(cast, as_user, waiting):
    from rarebridge.counselling.models import MatchPreference
    from rarebridge.counselling.services import match_accept

    client = as_user(cast.patient.user)
    client.post(
        reverse("patient:counsellor_preferences"),
        {
            "preferred_gender": "woman",
            "gender_required": "on",
            "days": ["0", "2"],
            "parts": ["evening"],
        },
    )
    preference = MatchPreference.objects.get(patient=cast.patient)
    assert preference.gender_required and {w["weekday"] for w in preference.call_windows} == {0, 2}
    with time_machine.travel(NOW, tick=False):
        match_accept(patient=cast.patient, counsellor=waiting.second, by=cast.coordinator)
    client.post(reverse("patient:counsellor_preferences"), {"action": "change", "reason": ""})
    assert Assignment.objects.filter(
        patient=cast.patient, ended_at__isnull=True
    ).exists()  # a reason is needed
    client.post(
        reverse("patient:counsellor_preferences"), {"action": "change", "reason": "Not a good fit"}
    )
    assert not Assignment.objects.filter(patient=cast.patient, ended_at__isnull=True).exists()


def test_it_prefers_a_counsellor_who_lives_with_the_same_condition(cast, as_user, waiting):
    from rarebridge.conditions.models import Condition, PatientCondition
    from rarebridge.counselling.models import CounsellorCondition

    psc = Condition.objects.create(
        orphacode=171, level="disorder", names={"en": "Primary sclerosing cholangitis"}
    )
    PatientCondition.objects.create(
        organisation=cast.org, patient=cast.other_patient, condition=psc
    )
    CounsellorCondition.objects.create(  # Paula lives with PSC too
        organisation=cast.org, counsellor=waiting.profiles[1], condition=psc
    )
    with time_machine.travel(NOW, tick=False):
        html = as_user(cast.supervisor).get(reverse("staff:matching")).content.decode()
    section = html[html.index(cast.other_patient.code) :]
    assert "Lives with the same condition" in section
    assert section.index("Paula Polish") < section.index(cast.counsellor.full_name)


def _lives_with_psc(cast, waiting):
    """The other patient and Paula both live with PSC (as condition rows)."""
    from rarebridge.conditions.models import Condition, PatientCondition
    from rarebridge.counselling.models import CounsellorCondition

    psc = Condition.objects.create(
        orphacode=171, level="disorder", names={"en": "Primary sclerosing cholangitis"}
    )
    PatientCondition.objects.create(
        organisation=cast.org, patient=cast.other_patient, condition=psc
    )
    CounsellorCondition.objects.create(
        organisation=cast.org, counsellor=waiting.profiles[1], condition=psc
    )


def _batch_pairs(cast):
    from rarebridge.counselling.services import match_batch_accept

    with time_machine.travel(NOW, tick=False):
        match_batch_accept(user=cast.supervisor)  # the service alone: no view hands it anything
    return {a.patient_id: a.counsellor for a in Assignment.objects.filter(ended_at__isnull=True)}


def test_the_batch_pairs_the_other_patient_elsewhere_when_nobody_shares_a_condition(cast, waiting):
    assert _batch_pairs(cast)[cast.other_patient.pk] == cast.counsellor


def test_the_batch_prefers_a_counsellor_who_lives_with_the_same_condition(cast, waiting):
    _lives_with_psc(cast, waiting)
    pairs = _batch_pairs(cast)
    assert pairs[cast.other_patient.pk] == waiting.second  # Paula lives with PSC too
    assert pairs[cast.patient.pk] == waiting.second  # still the only Polish speaker
    accepted = AuditEntry.objects.get(
        action="counselling.match.accepted",
        object_id=str(Assignment.objects.get(patient=cast.other_patient, ended_at__isnull=True).pk),
    )
    assert "condition.same" in str(accepted.payload)


def test_it_builds_the_matching_screen_with_queries_that_do_not_grow_with_counsellors(
    cast, as_user, waiting
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(cast.supervisor)
    with time_machine.travel(NOW, tick=False):
        client.get(reverse("staff:matching"))
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("staff:matching"))
        for n in range(6):
            user = staff(Role.COUNSELLOR, cast.org, cast.site, full_name=f"Extra {n}")
            profile = counsellor_profile_upsert(
                user=user, organisation_id=cast.org.pk, country_id="DE", languages=["en"]
            )
            availability_rule_add(
                counsellor=profile, weekday=1, start=time(9), end=time(12), by=user
            )
            certification_grant_unchecked(counsellor=profile, by=None)
        # Warm again: the writes above may clear cached lookups the first warm-up filled.
        client.get(reverse("staff:matching"))
        with CaptureQueriesContext(connection) as many:
            client.get(reverse("staff:matching"))
    # Six more counsellors must not cost a query each. (In full PostgreSQL runs a constant three
    # more queries sometimes appear, not yet traced; a per-counsellor query would add six.)
    assert len(many) < len(few) + 6
