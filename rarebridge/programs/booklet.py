"""The booklet: the manual (or one chapter) as a printable PDF, optionally with the patient's
own answers, in their language. WeasyPrint renders the same HTML a browser would print."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from rarebridge.network.models import pick_translation
from rarebridge.programs.forms import field_views
from rarebridge.programs.models import Chapter, Exercise, ExerciseAnswer, ProgramVersion


def booklet_html(
    *,
    version: ProgramVersion,
    language: str,
    weeks: list[int],
    answers: dict[int, ExerciseAnswer] | None = None,
) -> str:
    chapters = {}
    for chapter in Chapter.objects.filter(
        version=version, week__in=weeks, language__in=[language, "en"]
    ):
        if chapter.language == language or chapter.week not in chapters:
            chapters[chapter.week] = chapter
    exercises = list(
        Exercise.objects.filter(version=version, week__in=weeks).order_by("week", "position")
    )
    sections = []
    for week in weeks:
        items = []
        for exercise in (e for e in exercises if e.week == week):
            answer = (answers or {}).get(exercise.pk)
            items.append(
                {
                    "title": pick_translation(exercise.definition["title"], language),
                    "fields": field_views(
                        exercise.definition["fields"], answer.data if answer else {}, {}, language
                    ),
                    "with_answers": answers is not None,
                }
            )
        sections.append(
            {
                "chapter": chapters.get(week),
                "exercises": items,
                "fallback": chapters.get(week) and chapters[week].language != language,
            }
        )
    with translation.override(language):
        return render_to_string(
            "programs/booklet.html",
            {
                "title": pick_translation(version.definition["title"], language),
                "sections": sections,
                "language": language,
            },
        )


def booklet_pdf(**kwargs) -> bytes:
    from weasyprint import HTML

    return HTML(string=booklet_html(**kwargs)).write_pdf()
