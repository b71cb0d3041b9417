"""The study team's irreversible steps: screening is reviewed before it is saved, and
randomising and countersigning ask once, naming the person."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from rarebridge.trials.models import Allocation, ScreeningRecord
from rarebridge.trials.selectors import consort_numbers
from tests.trials_helpers import ELIGIBLE, consent, load_demo_study, ready_to_randomise, screen_in

YES_NO = {k: "yes" if v is True else "no" for k, v in ELIGIBLE.items() if k != "diagnosis"}


@pytest.fixture
def study(cast):
    return load_demo_study(cast)


def _refer(cast, **overrides):
    data = {
        "site": str(cast.site.pk),
        "diagnosis": "AIH",
        **YES_NO,
        "full_name": "Rolf Referred",
        "email": "rolf@example.org",
        "language": "de",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_it_records_nothing_on_an_empty_referral_and_requires_every_answer(study, cast, as_user):
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:refer", args=[study.slug])
    before = consort_numbers(user=cast.coordinator, study=study)
    page = client.post(url, {})
    assert page.status_code == 422
    html = page.content.decode()
    for name in ("site", "diagnosis", *YES_NO):
        assert f'name="{name}"' in html
        assert name in page.context["form"].errors, name
    assert not ScreeningRecord.objects.exists()
    assert consort_numbers(user=cast.coordinator, study=study) == before
    # Even "step=confirm" with nothing answered records nothing.
    assert client.post(url, {"step": "confirm"}).status_code == 422
    assert not ScreeningRecord.objects.exists()


def test_it_preselects_no_site_and_answers_no_criterion(study, cast, as_user):
    page = as_user(cast.coordinator).get(reverse("trials_staff:refer", args=[study.slug]))
    text = str(page.context["form"])
    assert 'name="adult" value="yes"' in text
    assert " checked" not in text
    assert "selected" not in text.replace('value="" selected', "")


def test_it_shows_what_will_be_recorded_before_saving_a_screening(study, cast, as_user):
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:refer", args=[study.slug])
    data = _refer(cast, full_name=None, email=None, language=None, adult="no")
    review = client.post(url, data)
    assert review.status_code == 200
    html = review.content.decode()
    assert "You are about to record:" in html
    assert "Not eligible" in html
    assert "The study is for adults (18 or older)." in html
    assert not ScreeningRecord.objects.exists()
    back = client.post(url, {**data, "step": "edit"})
    assert back.status_code == 200 and 'value="no"' in back.content.decode()
    assert not ScreeningRecord.objects.exists()
    done = client.post(url, {**data, "step": "confirm"})
    assert done.status_code == 302
    record = ScreeningRecord.objects.get()
    assert record.reasons == ["under_age"] and not record.eligible


def test_it_reviews_an_eligible_referral_and_then_creates_the_participant(study, cast, as_user):
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:refer", args=[study.slug])
    review = client.post(url, _refer(cast))
    assert "Eligible, at" in review.content.decode()
    assert not ScreeningRecord.objects.exists()
    client.post(url, {**_refer(cast), "step": "confirm"})
    assert ScreeningRecord.objects.get().eligible


def test_it_asks_for_contact_details_of_an_eligible_person(study, cast, as_user):
    page = as_user(cast.coordinator).post(
        reverse("trials_staff:refer", args=[study.slug]),
        _refer(cast, full_name="", email=""),
    )
    assert page.status_code == 422
    assert "full_name" in page.context["form"].errors
    assert not ScreeningRecord.objects.exists()


def test_it_asks_before_randomising_naming_the_person_and_site(study, cast, as_user):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="r@example.org")
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:randomise", args=[study.slug, participant.pk])
    for ask in (client.get(url), client.post(url)):
        html = ask.content.decode()
        assert ask.status_code == 200
        assert participant.patient.code in html
        assert participant.patient.user.full_name in html
        assert cast.site.name in html
        assert "cannot be undone" in html
    assert not Allocation.objects.exists()
    detail = client.get(reverse("trials_staff:participant", args=[study.slug, participant.pk]))
    assert f'href="{url}"' in detail.content.decode()


def test_it_randomises_once_when_the_confirmation_is_posted_twice(study, cast, as_user):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="d@example.org")
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:randomise", args=[study.slug, participant.pk])
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    assert Allocation.objects.filter(participant=participant).count() == 1


def test_it_asks_before_countersigning(study, cast, as_user):
    participant = screen_in(study, cast.site, email="c@example.org")
    record = consent(participant)
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:countersign", args=[study.slug, participant.pk])
    ask = client.post(url)
    assert participant.patient.code in ask.content.decode()
    assert "cannot be undone" in ask.content.decode()
    record.refresh_from_db()
    assert record.countersigned_at is None
    client.post(url, {"confirm": "yes"})
    record.refresh_from_db()
    assert record.countersigned_by == cast.coordinator


def test_it_records_exactly_what_the_review_page_carries(study, cast, as_user):
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:refer", args=[study.slug])
    review = client.post(url, _refer(cast)).content.decode()
    confirm_form = review.split('value="confirm"')[0].rsplit("<form", 1)[1]
    carried = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', confirm_form))
    assert carried["adult"] == "yes" and carried["life_threatening"] == "no"
    carried.pop("csrfmiddlewaretoken", None)
    client.post(url, {**carried, "step": "confirm"})
    record = ScreeningRecord.objects.get()
    assert record.eligible and record.site == cast.site
