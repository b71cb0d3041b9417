"""The catalogue moves from the directory app to the conditions app, and counsellors' JSON
conditions become rows, without losing a row (issue 14)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import CountryFactory, PatientFactory, UserFactory

BEFORE = [
    ("directory", "0001_initial"),
    ("counselling", "0003_matchdecline_matchpreference"),
    ("conditions", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_it_moves_conditions_and_counsellor_conditions_forward_with_their_rows(capsys):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        old = _migrate(BEFORE)
        OldCondition = old.get_model("directory", "Condition")
        OldXref = old.get_model("directory", "CrossReference")
        OldPatientCondition = old.get_model("directory", "PatientCondition")
        OldEntry = old.get_model("directory", "DirectoryEntry")
        OldEntryCondition = old.get_model("directory", "EntryCondition")
        OldCounsellor = old.get_model("counselling", "CounsellorProfile")

        group = OldCondition.objects.create(
            orphacode=9000001, level="group", names={"en": "Autoimmune liver disease"}
        )
        psc = OldCondition.objects.create(
            orphacode=171, names={"en": "Primary sclerosing cholangitis", "de": "PSC"}
        )
        aih = OldCondition.objects.create(orphacode=2137, names={"en": "Autoimmune hepatitis"})
        psc.parents.add(group)
        OldXref.objects.create(condition=psc, system="ICD-10", code="K83.0", mapping="E")
        patient = PatientFactory()
        OldPatientCondition.objects.create(
            organisation_id=patient.organisation_id, patient_id=patient.pk, condition=psc
        )
        entry = OldEntry.objects.create(slug="psc-support", name="PSC support", kind="local_group")
        OldEntryCondition.objects.create(entry=entry, condition=psc)
        counsellor = OldCounsellor.objects.create(
            organisation_id=patient.organisation_id,
            user_id=UserFactory().pk,
            country_id=CountryFactory(code="DE").pk,
            languages=["en"],
            conditions=["ORPHA:171", "autoimmune HEPATITIS", "something nobody knows"],
        )

        _migrate(latest)

        from rarebridge.conditions.models import Condition, CrossReference, PatientCondition
        from rarebridge.counselling.models import CounsellorCondition, CounsellorProfile
        from rarebridge.directory.models import DirectoryEntry

        moved = Condition.objects.get(orphacode=171)
        assert moved.pk == psc.pk and moved.names["de"] == "PSC"
        assert list(moved.parents.values_list("orphacode", flat=True)) == [9000001]
        assert CrossReference.objects.get(condition=moved).code == "K83.0"
        link = PatientCondition.objects.get(patient_id=patient.pk)
        assert link.condition == moved and link.organisation_id == patient.organisation_id
        assert list(DirectoryEntry.objects.get(pk=entry.pk).conditions.all()) == [moved]
        rows = CounsellorCondition.objects.filter(counsellor_id=counsellor.pk).order_by(
            "condition__orphacode"
        )
        assert [r.condition.orphacode for r in rows] == [171, 2137]
        assert {r.organisation_id for r in rows} == {patient.organisation_id}
        assert "1 condition entries of 1 counsellor profile(s)" in capsys.readouterr().out
        assert [
            c.condition.orphacode
            for c in CounsellorProfile.objects.get(pk=counsellor.pk).conditions.all()
        ] == [171, 2137]
        # The renamed tables take new rows, and their foreign keys still hold.
        PatientCondition.objects.create(
            organisation_id=patient.organisation_id,
            patient_id=patient.pk,
            condition=Condition.objects.get(pk=aih.pk),
        )
        assert PatientCondition.objects.filter(patient_id=patient.pk).count() == 2

        # And back: the JSON list comes back from the rows, as ORPHAcodes.
        back = _migrate(BEFORE)
        restored = back.get_model("counselling", "CounsellorProfile").objects.get(pk=counsellor.pk)
        assert restored.conditions == ["ORPHA:171", "ORPHA:2137"]
        assert back.get_model("directory", "PatientCondition").objects.count() == 2
    finally:
        _migrate(latest)
        call_command("flush", verbosity=0, interactive=False)
