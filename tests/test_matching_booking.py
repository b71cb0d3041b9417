"""Matching as the coordinator needs it: every proposal can be booked, policy as hard rules
(sites, waking hours), "match everyone" previews first and confirms exactly that preview."""

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rarebridge.core.models import AuditEntry
from rarebridge.core.permissions import Role
from rarebridge.counselling.matching import batch_proposal
from rarebridge.counselling.models import Assignment, Call, MatchPreference
from rarebridge.counselling.selectors import matching_overview
from rarebridge.counselling.services import (
    availability_rule_add,
    certification_grant_unchecked,
    counsellor_profile_upsert,
    match_batch_confirm,
)
from rarebridge.programs.services import enrolment_start, program_version_load
from tests.conftest import staff
from tests.factories import CountryFactory, PatientFactory, SiteFactory

SOURCE = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def _counsellor(cast, user, *, rules, languages=("de", "en")):
    profile = counsellor_profile_upsert(
        user=user,
        organisation_id=cast.org.pk,
        country_id="DE",
        languages=list(languages),
        capacity=3,
    )
    for weekday, start, end in rules:
        availability_rule_add(counsellor=profile, weekday=weekday, start=start, end=end, by=user)
    certification_grant_unchecked(counsellor=profile, by=None)
    return profile


def _waiting(patient, version, *, windows=None, language="de"):
    patient.user.language = language
    patient.user.save()
    enrolment_start(patient=patient, version=version, start_date=date(2026, 3, 2))
    if windows is not None:
        MatchPreference.objects.create(patient=patient, call_windows=windows)


TUESDAY_1800 = [{"weekday": 1, "start": "18:00", "end": "18:30"}]


@pytest.fixture(autouse=True)
def _supervisor_reaches_every_site(cast):
    """These tests are about what can be booked, not about reach: the supervisor who matches
    reaches both sites (organisation-wide by the flag)."""
    cast.supervisor.role_assignments.update(organisation_wide=True)
    cast.supervisor.__dict__.pop("_active_roles", None)
    cast.supervisor.__dict__.pop("_site_reach", None)


@pytest.fixture
def clash(cast):
    """Two waiting patients and two counsellors in Hamburg, all free only Tuesday 18:00-18:30."""
    with time_machine.travel(MONDAY, tick=False):
        version, _ = program_version_load(path=SOURCE)
        Assignment.objects.all().delete()
        second = staff(Role.COUNSELLOR, cast.org, cast.site, full_name="Dora Zweite")
        profiles = [
            _counsellor(cast, user, rules=[(1, time(18), time(18, 30))])
            for user in (cast.counsellor, second)
        ]
        other = PatientFactory(site=cast.site, user__full_name="Berta Beispiel")
        for patient in (cast.patient, other):
            _waiting(patient, version, windows=TUESDAY_1800)
        yield type("Clash", (), {"profiles": profiles, "patients": [cast.patient, other]})


def _berlin(call):
    return call.starts_at.astimezone(BERLIN)


def test_it_books_both_series_when_two_patients_want_the_only_free_time(cast, clash):
    with time_machine.travel(MONDAY, tick=False):
        proposal = batch_proposal(user=cast.supervisor)
        outcome = match_batch_confirm(token=proposal.token, by=cast.supervisor)
    assert outcome.status == "done" and outcome.matched == 2 and not outcome.refused
    pairs = {a.patient_id: a.counsellor_id for a in Assignment.objects.filter(ended_at=None)}
    assert set(pairs) == {p.pk for p in clash.patients}
    assert len(set(pairs.values())) == 2  # one each: the single weekly time cannot be shared
    for patient in clash.patients:
        calls = list(Call.objects.filter(patient=patient).order_by("starts_at"))
        assert len(calls) == 6 and [c.week for c in calls] == [1, 2, 3, 4, 5, 6]
        assert {(_berlin(c).weekday(), _berlin(c).time()) for c in calls} == {(1, time(18))}
        assert {c.counsellor.user_id for c in calls} == {pairs[patient.pk]}


def test_batch_accept_books_six_calls_at_the_weekly_time_across_the_clock_change(cast, clash):
    # The last Sunday of October 2026 is the 25th: Berlin goes from UTC+2 to UTC+1.
    with time_machine.travel(datetime(2026, 10, 5, 8, 0, tzinfo=UTC), tick=False):
        proposal = batch_proposal(user=cast.supervisor)
        match_batch_confirm(token=proposal.token, by=cast.supervisor)
    for patient in clash.patients:
        calls = list(Call.objects.filter(patient=patient).order_by("starts_at"))
        assert len(calls) == 6
        assert {(_berlin(c).weekday(), _berlin(c).time()) for c in calls} == {(1, time(18))}
        assert {c.starts_at.hour for c in calls} == {16, 17}  # the series crosses the change
        assert calls[0].starts_at.date() < date(2026, 10, 25) < calls[-1].starts_at.date()


def test_it_refuses_a_match_whose_weekly_time_was_taken_meanwhile(cast, as_user, clash):
    from tests.test_matching_product import _slot_of

    patient, other = clash.patients
    with time_machine.travel(MONDAY, tick=False):
        client = as_user(cast.coordinator)
        html = client.get(reverse("staff:matching")).content.decode()
        profile = clash.profiles[0]
        slot = _slot_of(html, patient.pk, profile.pk)
        # Meanwhile the other patient gets that counsellor's Tuesday 18:00.
        tuesday = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
        Call.objects.create(
            organisation=cast.org,
            enrolment=other.enrolments.get(),
            patient=other,
            counsellor=profile,
            week=1,
            starts_at=tuesday,
            booked_by=cast.coordinator,
        )
        response = client.post(
            reverse("staff:matching"),
            {"action": "accept", "patient": patient.pk, "counsellor": profile.pk, "slot": slot},
            follow=True,
        )
    assert "Someone booked this weekly time meanwhile" in response.content.decode()
    assert not Assignment.objects.filter(patient=patient, ended_at=None).exists()
    assert not Call.objects.filter(patient=patient).exists()


def test_it_accepts_one_suggestion_and_books_its_weekly_series(cast, as_user, clash):
    from tests.test_matching_product import _slot_of

    patient = clash.patients[0]
    with time_machine.travel(MONDAY, tick=False):
        client = as_user(cast.coordinator)
        html = client.get(reverse("staff:matching")).content.decode()
        assert "Weekly: Tuesday 18:00 in Berlin (counsellor) = Tuesday 18:00 in Berlin" in html
        profile = clash.profiles[1]
        client.post(
            reverse("staff:matching"),
            {
                "action": "accept",
                "patient": patient.pk,
                "counsellor": profile.pk,
                "slot": _slot_of(html, patient.pk, profile.pk),
            },
        )
        # A forged or edited slot is not booked.
        response = client.post(
            reverse("staff:matching"),
            {
                "action": "accept",
                "patient": clash.patients[1].pk,
                "counsellor": profile.pk,
                "slot": "forged",
            },
            follow=True,
        )
    assert "out of date" in response.content.decode()
    assert Call.objects.filter(patient=patient, counsellor=profile).count() == 6
    assert not Call.objects.filter(patient=clash.patients[1]).exists()


@pytest.fixture
def toronto(cast):
    """A waiting patient in Toronto, and Carla in Hamburg free on weekdays 09:00-18:00."""
    with time_machine.travel(MONDAY, tick=False):
        version, _ = program_version_load(path=SOURCE)
        Assignment.objects.all().delete()
        profile = _counsellor(
            cast, cast.counsellor, rules=[(d, time(9), time(18)) for d in range(5)]
        )
        _waiting(cast.other_patient, version, language="en")
        yield profile


def test_it_refuses_cross_site_pairs_unless_the_organisation_allows_them(cast, toronto):
    with time_machine.travel(MONDAY, tick=False):
        (row,) = matching_overview(user=cast.supervisor)
        assert row["suggestions"] == []
        assert row["unmatched"].blocking == "site"
        assert "allow_cross_border" in [f.code for f in row["unmatched"].fixes]
        assert batch_proposal(user=cast.supervisor).result.assignments == ()
        cast.org.cross_border_matching = True
        cast.org.save()
        (row,) = matching_overview(user=cast.supervisor)
    assert [s["name"] for s in row["suggestions"]] == [cast.counsellor.full_name]


def test_it_offers_no_call_at_half_past_midnight_for_a_ghent_patient(cast):
    """A Toronto counsellor free only 18:30-19:00 (00:30 in Ghent); the patient would take any
    time of day. Waking hours refuse it; 12:00 in Toronto (18:00 in Ghent) would do."""
    cast.org.cross_border_matching = True
    cast.org.save()
    be = CountryFactory(code="BE", default_time_zone="Europe/Brussels")
    ghent = SiteFactory(
        organisation=cast.org, country=be, name="Ghent", city="Ghent", time_zone="Europe/Brussels"
    )
    with time_machine.travel(MONDAY, tick=False):
        version, _ = program_version_load(path=SOURCE)
        Assignment.objects.all().delete()
        tanya = staff(
            Role.COUNSELLOR,
            cast.org,
            cast.other_site,
            full_name="Tanya Toronto",
            time_zone="America/Toronto",
        )
        profile = _counsellor(cast, tanya, rules=[(1, time(18, 30), time(19))], languages=["en"])
        patient = PatientFactory(site=ghent, user__time_zone="Europe/Brussels")
        all_day = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
        _waiting(patient, version, windows=all_day, language="en")
        (row,) = matching_overview(user=cast.supervisor)
        assert row["suggestions"] == []
        assert "call_times.no_bookable_slot" in [str(r.code) for r in row["unmatched"].reasons]
        availability_rule_add(
            counsellor=profile, weekday=1, start=time(12), end=time(12, 30), by=tanya
        )
        (row,) = matching_overview(user=cast.supervisor)
    (suggestion,) = row["suggestions"]
    first = datetime.fromtimestamp(suggestion["calls"][0] * 60, tz=UTC)
    assert first.astimezone(ZoneInfo("Europe/Brussels")).time() == time(18)


def test_match_everyone_previews_then_confirms_exactly_that_preview_once(cast, as_user, clash):
    from tests.test_matching_product import _token_of

    with time_machine.travel(MONDAY, tick=False):
        client = as_user(cast.supervisor)
        preview = client.post(reverse("staff:matching"), {"action": "preview"}).content.decode()
        assert not Assignment.objects.filter(ended_at=None).exists()  # a preview changes nothing
        assert "Weekly: Tuesday 18:00 in Berlin" in preview and "data-submit-once" in preview
        token = _token_of(preview)
        first = client.post(
            reverse("staff:matching"), {"action": "confirm", "token": token}, follow=True
        )
        again = client.post(
            reverse("staff:matching"), {"action": "confirm", "token": token}, follow=True
        )
    assert "2 patient(s) matched" in first.content.decode()
    assert "This preview was confirmed already." in again.content.decode()
    assert Assignment.objects.filter(ended_at=None).count() == 2
    assert Call.objects.count() == 12
    assert AuditEntry.objects.filter(action="counselling.match.batch_confirmed").count() == 1


def test_a_stale_preview_is_refused_and_a_fresh_one_shown(cast, as_user, clash):
    from tests.test_matching_product import _token_of

    with time_machine.travel(MONDAY, tick=False):
        client = as_user(cast.supervisor)
        preview = client.post(reverse("staff:matching"), {"action": "preview"}).content.decode()
        # Meanwhile a counsellor stops taking patients: the preview no longer holds.
        clash.profiles[0].is_active = False
        clash.profiles[0].save()
        response = client.post(
            reverse("staff:matching"), {"action": "confirm", "token": _token_of(preview)}
        )
    html = response.content.decode()
    assert response.status_code == 200 and "The situation changed since the preview" in html
    assert _token_of(html) != _token_of(preview)  # a fresh preview to confirm instead
    assert not Assignment.objects.filter(ended_at=None).exists() and not Call.objects.exists()


def test_the_matching_page_queries_do_not_grow_with_waiting_patients(cast, as_user, clash):
    from rarebridge.programs.models import ProgramVersion

    version = ProgramVersion.objects.get()
    client = as_user(cast.supervisor)
    with time_machine.travel(MONDAY, tick=False):
        client.get(reverse("staff:matching"))
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("staff:matching"))
        for n in range(5):
            patient = PatientFactory(site=cast.site, user__full_name=f"More {n}")
            _waiting(patient, version, windows=TUESDAY_1800 if n % 2 else None)
        client.get(reverse("staff:matching"))
        with CaptureQueriesContext(connection) as many:
            html = client.get(reverse("staff:matching")).content.decode()
    assert "More 4" in html
    assert len(many) == len(few)
