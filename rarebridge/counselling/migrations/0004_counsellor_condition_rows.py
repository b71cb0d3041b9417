# Issue 14: a counsellor's conditions become rows of the same shape as a patient's
# (CounsellorCondition, like conditions.PatientCondition) instead of the JSON list
# CounsellorProfile.conditions, which held what the counsellor typed: ORPHAcodes ("ORPHA:171",
# "171") or names. Codes are looked up by ORPHAcode, names by an exact (case- and
# accent-insensitive) match with one condition's name or synonym in any language. What matches
# nothing in the catalogue cannot become a row; matching ignored it before too. How many such
# entries there were (and whose profile) is printed, never their text.

import re
import unicodedata

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CODE = re.compile(r"^\s*(?:orpha(?:code)?\s*:?\s*)?(\d{1,7})\s*$", re.I)


def _fold(text):
    text = unicodedata.normalize("NFKD", str(text)).casefold()
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def _names(Condition):
    by_name = {}
    for pk, names, synonyms in Condition._base_manager.values_list("pk", "names", "synonyms"):
        texts = [*(names or {}).values()]
        for values in (synonyms or {}).values():
            texts.extend(values or [])
        for text in texts:
            if text:
                by_name.setdefault(_fold(text), set()).add(pk)
    return by_name


def json_to_rows(apps, schema_editor):
    Profile = apps.get_model("counselling", "CounsellorProfile")
    Row = apps.get_model("counselling", "CounsellorCondition")
    Condition = apps.get_model("conditions", "Condition")
    by_code = None
    by_name = None
    unmatched = {}
    rows = []
    for pk, organisation_id, values in Profile._base_manager.values_list(
        "pk", "organisation_id", "conditions"
    ):
        wanted = {}
        for value in values or []:
            code = CODE.match(str(value))
            found = None
            if code:
                if by_code is None:
                    by_code = dict(Condition._base_manager.values_list("orphacode", "pk"))
                found = by_code.get(int(code.group(1)))
            elif str(value).strip():
                if by_name is None:
                    by_name = _names(Condition)
                hits = by_name.get(_fold(value), set())
                found = next(iter(hits)) if len(hits) == 1 else None
            if found is not None:
                wanted[found] = None
            elif str(value).strip():
                unmatched[pk] = unmatched.get(pk, 0) + 1
        rows.extend(
            Row(organisation_id=organisation_id, counsellor_id=pk, condition_id=condition_id)
            for condition_id in wanted
        )
    Row._base_manager.bulk_create(rows, batch_size=1000)
    if unmatched:
        print(
            f"\n  counselling 0004: {sum(unmatched.values())} condition entries of "
            f"{len(unmatched)} counsellor profile(s) not found in the catalogue "
            f"(profile ids {sorted(unmatched)}); ask them to enter their conditions again."
        )


def rows_to_json(apps, schema_editor):
    Profile = apps.get_model("counselling", "CounsellorProfile")
    Row = apps.get_model("counselling", "CounsellorCondition")
    codes = {}
    for counsellor_id, code in Row._base_manager.order_by("pk").values_list(
        "counsellor_id", "condition__orphacode"
    ):
        codes.setdefault(counsellor_id, []).append(f"ORPHA:{code}")
    for pk, values in codes.items():
        Profile._base_manager.filter(pk=pk).update(conditions=values)


class Migration(migrations.Migration):

    dependencies = [
        ('conditions', '0001_initial'),
        ('counselling', '0003_matchdecline_matchpreference'),
        ('network', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CounsellorCondition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('added_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('condition', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='conditions.condition')),
                # "+" until the JSON field of the same name is gone (below).
                ('counsellor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='counselling.counsellorprofile')),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='network.organisation')),
            ],
            options={
                'ordering': ['created_at', 'pk'],
                'abstract': False,
                'constraints': [models.UniqueConstraint(fields=('counsellor', 'condition'), name='counsellor_condition_unique')],
            },
        ),
        migrations.RunPython(json_to_rows, rows_to_json),
        migrations.RemoveField(
            model_name='counsellorprofile',
            name='conditions',
        ),
        migrations.AlterField(
            model_name='counsellorcondition',
            name='counsellor',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='conditions', to='counselling.counsellorprofile'),
        ),
    ]
