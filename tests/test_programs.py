import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rarebridge.core.models import AuditEntry
from rarebridge.programs.content import ContentError, read_program
from rarebridge.programs.models import (
    AnswerRevision,
    Chapter,
    Exercise,
    ExerciseAnswer,
    ProgramVersion,
)
from rarebridge.programs.services import (
    VersionFrozen,
    answer_save,
    enrolment_start,
    program_version_load,
)
from tests.factories import PatientFactory

SOURCE = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"


@pytest.fixture
def version(db):
    loaded, _outcome = program_version_load(path=SOURCE)
    return loaded


@pytest.fixture
def enrolled(cast, version):
    """The cast's patient in week 2 of the program (started 8 days ago, Berlin time)."""
    start = timezone.localdate(
        timezone.now(), timezone=__import__("zoneinfo").ZoneInfo("Europe/Berlin")
    ) - timedelta(days=8)
    return enrolment_start(patient=cast.patient, version=version, start_date=start)


@pytest.fixture
def copy_of_program(tmp_path):
    target = tmp_path / "act-six-weeks" / "1"
    shutil.copytree(SOURCE, target)
    return target


def test_it_loads_a_version_once_and_loading_again_changes_nothing(db):
    version, outcome = program_version_load(path=SOURCE)
    assert outcome == "created" and version.weeks == 6
    assert Chapter.objects.filter(version=version, language="en").count() == 6
    assert Exercise.objects.filter(version=version, is_reflection=False).count() >= 12
    again, outcome = program_version_load(path=SOURCE)
    assert (again.pk, outcome) == (version.pk, "unchanged")
    assert AuditEntry.objects.filter(action__startswith="programs.version.").count() == 1


def test_it_refuses_a_broken_program_with_file_and_line_and_keeps_the_running_one(
    version, copy_of_program
):
    exercise = copy_of_program / "exercises" / "emotion-diary.json"
    exercise.write_text(exercise.read_text().replace('"type": "date"', '"type": "colour"', 1))
    chapter = copy_of_program / "chapters" / "en" / "week-2.md"
    chapter.write_text(chapter.read_text() + "\n<script>alert(1)</script>\n")
    with pytest.raises(ContentError) as raised:
        read_program(copy_of_program)
    text = str(raised.value)
    assert "exercises/emotion-diary.json:" in text and "unknown field type 'colour'" in text
    assert "chapters/en/week-2.md:" in text and "unsafe markup" in text
    with pytest.raises(CommandError):
        call_command("load_program", str(copy_of_program))
    assert ProgramVersion.objects.get().checksum == version.checksum


def test_it_reports_invalid_json_with_its_line(copy_of_program):
    (copy_of_program / "program.json").write_text('{\n  "slug": "act-six-weeks",\n  oops\n}')
    with pytest.raises(ContentError) as raised:
        read_program(copy_of_program)
    assert raised.value.problems[0].file == "program.json" and raised.value.problems[0].line == 3


def test_it_reports_a_missing_translation_of_a_listed_language(copy_of_program):
    program = json.loads((copy_of_program / "program.json").read_text())
    program["languages"] = ["en", "xx"]
    (copy_of_program / "program.json").write_text(json.dumps(program))
    with pytest.raises(ContentError, match="languages must include"):
        read_program(copy_of_program)


def test_it_never_changes_the_structure_of_a_version_with_enrolments(enrolled, copy_of_program):
    shutil.rmtree(copy_of_program / "translations")  # their keys would name the old field
    program = json.loads((copy_of_program / "program.json").read_text())
    program["languages"] = ["en"]
    program["weeks"][0]["reflection"]["fields"][1]["id"] = "renamed"
    (copy_of_program / "program.json").write_text(json.dumps(program, indent=2))
    with pytest.raises(VersionFrozen):
        program_version_load(path=copy_of_program)


def test_it_keeps_enrolled_patients_on_their_version_when_a_new_one_is_loaded(enrolled, tmp_path):
    target = tmp_path / "act-six-weeks" / "2"
    shutil.copytree(SOURCE, target)
    program = json.loads((target / "program.json").read_text())
    program["version"] = "2"
    (target / "program.json").write_text(json.dumps(program, indent=2))
    new, outcome = program_version_load(path=target)
    assert outcome == "created" and new.pk != enrolled.version_id
    enrolled.refresh_from_db()
    assert enrolled.version.version == "1"


def test_it_renders_chapters_without_raw_html(version):
    html = Chapter.objects.get(version=version, week=1, language="en").html
    assert "<h1>" in html and "<script" not in html


def test_it_shows_this_week_with_open_and_closed_weeks(cast, as_user, enrolled):
    html = as_user(cast.patient.user).get(reverse("patient:home")).content.decode()
    assert "You are in week 2 of 6." in html
    assert (
        reverse("patient:week", args=[2]) in html and reverse("patient:week", args=[3]) not in html
    )


def test_it_explains_when_a_closed_chapter_opens(cast, as_user, enrolled):
    response = as_user(cast.patient.user).get(reverse("patient:week", args=[4]))
    assert response.status_code == 200 and "not open yet" in response.content.decode()


def test_it_shows_a_chapter_with_reading_time_and_its_exercises(cast, as_user, enrolled):
    html = as_user(cast.patient.user).get(reverse("patient:week", args=[1])).content.decode()
    assert "minutes to read" in html and 'class="chapter"' in html
    assert reverse("patient:exercise", args=["hopes-for-the-program"]) in html


def test_it_falls_back_to_english_with_a_notice(cast, as_user, enrolled):
    Chapter.objects.filter(language="hu").delete()
    cast.patient.user.language = "hu"
    cast.patient.user.save()
    html = as_user(cast.patient.user).get(reverse("patient:week", args=[1])).content.decode()
    assert 'lang="en"' in html and 'role="note"' in html


def test_it_runs_a_constant_number_of_queries_on_this_week_and_the_chapter(
    cast, as_user, enrolled, version
):
    client = as_user(cast.patient.user)
    counts = {}
    for label in ("few", "many"):
        if label == "many":
            for _ in range(25):
                enrolment_start(
                    patient=PatientFactory(site=cast.site),
                    version=version,
                    start_date=date(2026, 1, 5),
                )
        for name, args in (("patient:home", []), ("patient:week", [1])):
            client.get(reverse(name, args=args))
            with CaptureQueriesContext(connection) as queries:
                client.get(reverse(name, args=args))
            counts[(label, name)] = len(queries)
    assert counts[("few", "patient:home")] == counts[("many", "patient:home")]
    assert counts[("few", "patient:week")] == counts[("many", "patient:week")]


def test_it_saves_answers_as_plain_text_and_shows_them_escaped(cast, as_user, enrolled):
    client = as_user(cast.patient.user)
    url = reverse("patient:exercise_autosave", args=["hopes-for-the-program"])
    exercise = Exercise.objects.get(key="hopes-for-the-program")
    text_field = next(f for f in exercise.definition["fields"] if f["type"] == "long_text")
    response = client.post(
        url, {"base_revision": 0, f"f.{text_field['id']}": "<script>alert('x')</script> hope"}
    )
    assert response.status_code == 200 and response.json()["revision"] == 1
    html = client.get(reverse("patient:exercise", args=["hopes-for-the-program"])).content.decode()
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; hope" in html
        and "<script>alert" not in html
    )


def test_it_refuses_an_over_long_answer_clearly_and_keeps_it(cast, as_user, enrolled):
    exercise = Exercise.objects.get(key="hopes-for-the-program")
    field = next(f for f in exercise.definition["fields"] if f["type"] == "long_text")
    too_long = "x" * (field["max_length"] + 1)
    response = as_user(cast.patient.user).post(
        reverse("patient:exercise_autosave", args=["hopes-for-the-program"]),
        {"base_revision": 0, f"f.{field['id']}": too_long},
    )
    assert response.status_code == 422
    assert "nothing you typed has been lost" in response.json()["errors"][field["id"]]
    assert AnswerRevision.objects.get(outcome="invalid").data[field["id"]] == too_long


def test_it_never_lets_two_tabs_overwrite_each_other_silently(cast, as_user, enrolled):
    client = as_user(cast.patient.user)
    url = reverse("patient:exercise_autosave", args=["hopes-for-the-program"])
    exercise = Exercise.objects.get(key="hopes-for-the-program")
    field = next(f for f in exercise.definition["fields"] if f["type"] == "long_text")
    assert (
        client.post(url, {"base_revision": 0, f"f.{field['id']}": "from tab one"}).status_code
        == 200
    )
    second = client.post(url, {"base_revision": 0, f"f.{field['id']}": "from tab two"})
    assert second.status_code == 409 and second.json()["current"][field["id"]] == "from tab one"
    assert ExerciseAnswer.objects.get().data[field["id"]] == "from tab one"
    assert (
        AnswerRevision.objects.get(outcome="conflict").data[field["id"]] == "from tab two"
    )  # kept, not lost


def test_it_marks_an_exercise_shared_with_the_counsellor_and_audits_it(cast, as_user, enrolled):
    client = as_user(cast.patient.user)
    client.post(reverse("patient:exercise_share", args=["hopes-for-the-program"]), {"shared": "on"})
    assert ExerciseAnswer.objects.get().shared_with_counsellor
    assert AuditEntry.objects.filter(
        action="programs.answer.shared", actor=cast.patient.user
    ).exists()


def test_it_keeps_a_closed_weeks_exercise_closed(cast, as_user, enrolled):
    key = Exercise.objects.filter(week=5, is_reflection=False).first().key
    client = as_user(cast.patient.user)
    assert "not open yet" in client.get(reverse("patient:exercise", args=[key])).content.decode()
    assert (
        client.post(
            reverse("patient:exercise_autosave", args=[key]), {"base_revision": 0}
        ).status_code
        == 403
    )


def test_it_opens_weeks_in_the_patients_zone_across_a_clock_change(cast, as_user, version):
    # Started Monday 16 March 2026 in Berlin; week 3 opens at local midnight on 30 March (CEST).
    enrolment_start(patient=cast.patient, version=version, start_date=date(2026, 3, 16))
    client = as_user(cast.patient.user)
    with time_machine.travel(datetime(2026, 3, 29, 21, 59, tzinfo=UTC), tick=False):
        assert "not open yet" in client.get(reverse("patient:week", args=[3])).content.decode()
    with time_machine.travel(datetime(2026, 3, 29, 22, 0, tzinfo=UTC), tick=False):
        assert "not open yet" not in client.get(reverse("patient:week", args=[3])).content.decode()


def test_it_hides_program_pages_from_other_roles_and_wrong_methods(cast, as_user, enrolled):
    assert as_user(cast.counsellor).get(reverse("patient:week", args=[1])).status_code == 404
    assert as_user(cast.patient.user).post(reverse("patient:week", args=[1])).status_code == 405
    assert (
        as_user(cast.patient.user)
        .get(reverse("patient:exercise_autosave", args=["hopes-for-the-program"]))
        .status_code
        == 405
    )


def test_it_gathers_values_and_goals_from_weeks_four_to_six(cast, as_user, version):
    enrolment = enrolment_start(
        patient=cast.patient, version=version, start_date=timezone.localdate() - timedelta(days=40)
    )
    exercise = Exercise.objects.filter(week=4, is_reflection=False).first()
    field = next(f for f in exercise.definition["fields"] if f["type"] in ("long_text", "text"))
    answer_save(
        enrolment=enrolment,
        exercise=exercise,
        data={field["id"]: "Being there for my children"},
        base_revision=0,
    )
    html = as_user(cast.patient.user).get(reverse("patient:values_goals")).content.decode()
    assert "Being there for my children" in html


def test_it_shows_program_admins_translation_status_and_a_preview(cast, as_user, version):
    client = as_user(cast.admin)
    html = client.get(reverse("staff:program_version", args=[version.pk])).content.decode()
    assert "draft" in html
    preview = client.get(
        reverse("staff:program_preview", args=[version.pk]), {"week": 2, "language": "en"}
    )
    assert preview.status_code == 200 and "<h1>" in preview.content.decode()
    assert as_user(cast.counsellor).get(reverse("staff:programs")).status_code == 403
    assert as_user(cast.patient.user).get(reverse("staff:programs")).status_code == 404


@pytest.mark.parametrize("language", ["en", "de", "pl", "nl", "hu", "fr"])
def test_it_prints_the_booklet_in_each_language_with_every_chapter_title(
    cast, as_user, version, language
):
    import io

    from pypdf import PdfReader

    enrolment_start(
        patient=cast.patient, version=version, start_date=timezone.localdate() - timedelta(days=60)
    )
    cast.patient.user.language = language
    cast.patient.user.save()
    response = as_user(cast.patient.user).get(reverse("patient:booklet"))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    chapters = {c.week: c for c in Chapter.objects.filter(version=version, language="en")}
    chapters.update({c.week: c for c in Chapter.objects.filter(version=version, language=language)})
    for week, chapter in chapters.items():
        assert " ".join(chapter.markdown.splitlines()[0][2:].split()) in text, (language, week)


def test_it_prints_one_chapter_with_the_patients_own_answers(cast, as_user, version):
    import io

    from pypdf import PdfReader

    enrolment = enrolment_start(
        patient=cast.patient, version=version, start_date=timezone.localdate() - timedelta(days=3)
    )
    exercise = Exercise.objects.get(key="hopes-for-the-program")
    field = next(f for f in exercise.definition["fields"] if f["type"] == "long_text")
    answer_save(
        enrolment=enrolment,
        exercise=exercise,
        data={field["id"]: "Sleep better and worry less"},
        base_revision=0,
    )
    response = as_user(cast.patient.user).get(reverse("patient:booklet"), {"week": 1, "answers": 1})
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Sleep better and worry less" in " ".join(text.split())
    assert "Week 2" not in text.split("\n")[0]


def test_it_renders_every_exercise_and_reflection_of_the_program(cast, as_user, version):
    enrolment_start(
        patient=cast.patient, version=version, start_date=timezone.localdate() - timedelta(days=50)
    )
    client = as_user(cast.patient.user)
    for exercise in Exercise.objects.filter(version=version):
        response = client.get(reverse("patient:exercise", args=[exercise.key]))
        assert response.status_code == 200, exercise.key
        assert exercise.title in response.content.decode()


def test_it_round_trips_every_field_type_through_the_form():
    from django.http import QueryDict

    from rarebridge.programs.answers import clean_answers
    from rarebridge.programs.forms import parse_form

    label = {"en": "x"}
    fields = [
        {"id": "t", "type": "text", "label": label, "max_length": 20},
        {"id": "lt", "type": "long_text", "label": label, "max_length": 200},
        {
            "id": "one",
            "type": "single_choice",
            "label": label,
            "choices": [{"value": "a", "label": label}, {"value": "b", "label": label}],
        },
        {
            "id": "many",
            "type": "multiple_choice",
            "label": label,
            "choices": [{"value": "a", "label": label}, {"value": "b", "label": label}],
        },
        {
            "id": "s",
            "type": "scale",
            "label": label,
            "min": 0,
            "max": 10,
            "min_label": label,
            "max_label": label,
        },
        {"id": "items", "type": "list", "label": label, "max_items": 3, "item_max_length": 30},
        {
            "id": "rank",
            "type": "ranked_cards",
            "label": label,
            "cards": [
                {"value": "x", "label": label},
                {"value": "y", "label": label},
                {"value": "z", "label": label},
            ],
            "max_ranked": 2,
        },
        {"id": "d", "type": "date", "label": label},
        {
            "id": "rows",
            "type": "repeating_rows",
            "label": label,
            "add_label": label,
            "max_rows": 5,
            "fields": [
                {"id": "what", "type": "text", "label": label, "max_length": 50},
                {
                    "id": "how",
                    "type": "scale",
                    "label": label,
                    "min": 1,
                    "max": 5,
                    "min_label": label,
                    "max_label": label,
                },
            ],
        },
    ]
    post = QueryDict(mutable=True)
    post.update(
        {
            "f.t": "short",
            "f.lt": "line one\nline two",
            "f.one": "b",
            "f.s": "7",
            "f.items": "walk\n\nread\n",
            "f.rank.z": "1",
            "f.rank.x": "2",
            "f.d": "2026-03-01",
            "r.rows.0.what": "walked",
            "r.rows.0.how": "4",
            "r.rows.1.what": "",
        }
    )
    post.setlist("f.many", ["a", "b"])
    cleaned, errors = clean_answers(fields, parse_form(fields, post))
    assert errors == {}
    assert cleaned == {
        "t": "short",
        "lt": "line one\nline two",
        "one": "b",
        "many": ["a", "b"],
        "s": 7,
        "items": ["walk", "read"],
        "rank": ["z", "x"],
        "d": "2026-03-01",
        "rows": [{"what": "walked", "how": 4}],
    }
    bad = QueryDict(mutable=True)
    bad.update({"f.one": "nope", "f.s": "11", "f.d": "yesterday", "f.t": "x" * 21})
    _cleaned, errors = clean_answers(fields, parse_form(fields, bad))
    assert set(errors) == {"one", "s", "d", "t"}


def test_it_points_patients_to_organisations_and_peers_from_week_six(cast, as_user, version):
    enrolment_start(
        patient=cast.patient, version=version, start_date=timezone.localdate() - timedelta(days=36)
    )
    html = as_user(cast.patient.user).get(reverse("patient:home")).content.decode()
    assert reverse("peers:organisations") in html


def test_it_keeps_the_closing_links_for_later_weeks(cast, as_user, version):
    enrolment_start(
        patient=cast.patient, version=version, start_date=timezone.localdate() - timedelta(days=2)
    )
    html = as_user(cast.patient.user).get(reverse("patient:home")).content.decode()
    assert reverse("peers:organisations") not in html
