"""A counsellor's conditions are rows like a patient's: the profile form reads and writes them."""

from __future__ import annotations

from django.urls import reverse

from rarebridge.conditions.models import Condition
from rarebridge.core.models import AuditEntry
from rarebridge.counselling.models import CounsellorCondition
from rarebridge.counselling.services import counsellor_profile_upsert


def _profile(cast):
    return counsellor_profile_upsert(
        user=cast.counsellor, organisation_id=cast.org.pk, country_id="DE", languages=["de"]
    )


def _post(client, conditions):
    return client.post(
        reverse("counsellor:profile"),
        {
            "languages": ["de"],
            "conditions": conditions,
            "gender": "woman",
            "age_band": "40-49",
            "capacity": "5",
            "introduction": "",
        },
    )


def test_the_profile_form_stores_conditions_as_rows_and_shows_them_as_orphacodes(cast, as_user):
    profile = _profile(cast)
    Condition.objects.create(orphacode=171, names={"en": "Primary sclerosing cholangitis"})
    Condition.objects.create(orphacode=2137, names={"de": "Autoimmunhepatitis"})
    client = as_user(cast.counsellor)
    assert _post(client, "ORPHA:171\nautoimmunhepatitis\n").status_code == 302
    rows = CounsellorCondition.objects.filter(counsellor=profile).order_by("condition__orphacode")
    assert [(r.condition.orphacode, r.organisation_id) for r in rows] == [
        (171, cast.org.pk),
        (2137, cast.org.pk),
    ]
    assert AuditEntry.objects.filter(
        action="counselling.profile.changed", payload__fields=["conditions"]
    ).exists()
    page = client.get(reverse("counsellor:profile")).content.decode()
    assert "ORPHA:171\nORPHA:2137" in page
    assert _post(client, "171").status_code == 302
    assert list(profile.conditions.values_list("condition__orphacode", flat=True)) == [171]


def test_the_profile_form_refuses_what_the_catalogue_does_not_know(cast, as_user):
    profile = _profile(cast)
    response = _post(as_user(cast.counsellor), "ORPHA:171\nsomething nobody knows")
    assert response.status_code != 302
    assert "Not found in the catalogue: ORPHA:171, something nobody knows" in (
        response.content.decode()
    )
    assert not CounsellorCondition.objects.filter(counsellor=profile).exists()
