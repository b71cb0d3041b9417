"""The Orphanet importer on the sample files of tests/data/orphanet (made for these tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rarebridge.conditions.models import Condition, CrossReference
from rarebridge.conditions.orphanet import (
    OrphanetFormatError,
    language_from_name,
    read_file,
    read_files,
    read_json,
)
from rarebridge.conditions.selectors import condition_search
from rarebridge.conditions.services import conditions_import
from rarebridge.core.models import AuditEntry
from tests import directory_fixtures as fx

SAMPLES = Path(__file__).parent / "data" / "orphanet"
XML = [
    SAMPLES / "en_product1_sample.xml",
    SAMPLES / "de_product1_sample.xml",
    SAMPLES / "en_product3_sample.xml",
]
PACK = SAMPLES / "ORPHAnomenclature_fr_sample.json"
_fresh_catalogue = fx._fresh_catalogue  # autouse


def test_it_reads_names_synonyms_levels_and_references_from_product1():
    records = {r.orphacode: r for r in read_file(XML[0])}
    aih = records[2137]
    assert aih.names == {"en": "Autoimmune hepatitis"}
    assert aih.synonyms == {"en": ["AIH", "Lupoid hepatitis"]}
    assert aih.level == "disorder" and records[999001].level == "group"
    # ICD-10 and ICD-11 kept with their mapping; MeSH is not one of ours.
    assert aih.xrefs == {("ICD-10", "K75.4", "E"), ("ICD-11", "DB96.0", "E")}
    assert records[171].xrefs == {("ICD-10", "K83.0", "NTBT")}
    assert records[999099].is_active is False  # "OBSOLETE: …"
    assert aih.parents is None  # product1 says nothing about parents


def test_it_ignores_disorders_nested_in_associations():
    codes = [r.orphacode for r in read_file(XML[0])]
    assert codes.count(2137) == 1  # the overlap association's target is not a second record


def test_it_reads_parents_from_a_classification():
    records = {}
    for record in read_file(XML[2]):
        records.setdefault(record.orphacode, set()).update(record.parents or set())
    assert records[999001] == {999000}
    assert records[2137] == records[171] == records[186] == {999001}
    assert records[999000] == set()


def test_it_reads_the_orphacode_json_pack_with_its_language_from_the_name():
    assert language_from_name(PACK.name) == "fr"
    records = read_files([PACK])
    by_code = {r.orphacode: r for r in records}
    assert by_code[2137].names == {"fr": "Hépatite auto-immune"}
    assert by_code[2137].xrefs == {("ICD-10", "K75.4", "E")}
    assert by_code[186].synonyms == {"fr": ["CBP", "Cirrhose biliaire primitive"]}
    assert by_code[999001].level == "group"
    assert by_code[171].parents == {999001}  # from the group's "Childs"
    assert by_code[999098].is_active is False


def test_it_reads_the_product1_json_conversion():
    (marfan,) = read_files([SAMPLES / "en_product1_sample.json"])
    assert marfan.orphacode == 558 and marfan.names == {"en": "Marfan syndrome"}
    assert marfan.synonyms == {"en": ["MFS"]} and marfan.level == "disorder"
    assert marfan.xrefs == {("OMIM", "154700", "E"), ("ICD-10", "Q87.4", "")}


def test_it_refuses_entity_declarations_and_files_of_another_shape(tmp_path):
    with pytest.raises(OrphanetFormatError):
        list(read_file(SAMPLES / "entity_bomb.xml"))
    with pytest.raises(OrphanetFormatError):
        list(read_json({"something": "else"}))
    bad = tmp_path / "en_product1.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(OrphanetFormatError):
        list(read_file(bad))


@pytest.mark.django_db
def test_it_imports_the_samples_and_a_group_finds_its_members():
    result = conditions_import(records=read_files([*XML, PACK]), source="orphanet-sample")
    # Four conditions, the classification's head group, and two inactive codes kept as such.
    assert result.created == 7 and result.skipped == 0
    aih = Condition.objects.get(orphacode=2137)
    assert aih.names == {
        "en": "Autoimmune hepatitis",
        "de": "Autoimmunhepatitis",
        "fr": "Hépatite auto-immune",
    }
    assert aih.synonyms["en"] == ["AIH", "Lupoid hepatitis"] and aih.synonyms["fr"] == ["HAI"]
    group = Condition.objects.get(orphacode=999001)
    assert group.level == "group"
    assert set(group.children.values_list("orphacode", flat=True)) == {2137, 171, 186}
    assert list(group.parents.values_list("orphacode", flat=True)) == [999000]
    assert set(
        CrossReference.objects.filter(condition=aih).values_list("system", "code", "mapping")
    ) == {("ICD-10", "K75.4", "E"), ("ICD-11", "DB96.0", "E")}
    assert not Condition.objects.get(orphacode=999099).is_active
    # 'autoimmune liver disease' finds the group, and with it AIH, PSC and PBC.
    found = [m.condition.orphacode for m in condition_search(query="autoimmune liver disease")]
    assert found[0] == 999001 and {2137, 171, 186} <= set(found)
    (best, *_others) = condition_search(query="Cholangite sclérosante")
    assert best.condition.orphacode == 171
    entry = AuditEntry.objects.get(action="directory.catalogue.imported")
    assert entry.payload["created"] == 7 and entry.payload["source"] == "orphanet-sample"


@pytest.mark.django_db
def test_it_imports_again_without_changing_anything():
    conditions_import(records=read_files([*XML, PACK]), source="orphanet")
    before = list(Condition.objects.values_list("orphacode", "updated_at").order_by("orphacode"))
    again = conditions_import(records=read_files([*XML, PACK]), source="orphanet")
    assert again.created == again.updated == 0 and again.unchanged == 7
    after = list(Condition.objects.values_list("orphacode", "updated_at").order_by("orphacode"))
    assert after == before


@pytest.mark.django_db
def test_it_keeps_parents_when_a_later_file_has_only_names():
    conditions_import(records=read_files(XML), source="orphanet")
    conditions_import(records=read_files([XML[1]]), source="orphanet")  # German names only
    aih = Condition.objects.get(orphacode=2137)
    assert list(aih.parents.values_list("orphacode", flat=True)) == [999001]
    assert aih.names["en"] == "Autoimmune hepatitis"


@pytest.mark.django_db
def test_it_moves_the_search_index_when_the_catalogue_changes():
    conditions_import(records=read_files([XML[0]]), source="orphanet")
    assert all(m.matched_language == "en" for m in condition_search(query="Autoimmunhepatitis"))
    conditions_import(records=read_files([XML[1]]), source="orphanet")
    (first, *_rest) = condition_search(query="Autoimmunhepatitis")
    assert first.condition.orphacode == 2137 and first.matched_language == "de"


@pytest.mark.django_db
def test_it_imports_from_the_command_line(tmp_path):
    call_command("import_orphanet", *map(str, XML), verbosity=0)
    assert Condition.objects.count() == 6
    with pytest.raises(CommandError):
        call_command("import_orphanet", str(tmp_path / "missing.xml"))
    with pytest.raises(CommandError):
        call_command("import_orphanet", str(SAMPLES / "entity_bomb.xml"))
    pack = tmp_path / "pack.json"
    pack.write_text(json.dumps([{"ORPHAcode": 558, "Preferred term": "Marfan-szindróma"}]))
    call_command("import_orphanet", str(pack), "--language", "hu", verbosity=0)
    assert Condition.objects.get(orphacode=558).names == {"hu": "Marfan-szindróma"}
