"""Reading and checking a program version folder (format 1, see content/programs/README.md).

``read_program(path)`` returns a ``ProgramContent`` or raises ``ContentError`` listing every
problem with its file and line, so an author fixes them all in one go. Nothing here touches the
database: the loader service stores what this returns.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from rarebridge.programs.strings import iter_localised, merge_translations

LANGUAGES = ("en", "de", "pl", "nl", "hu", "fr")
FIELD_TYPES = {
    "text": ({"max_length"}, set()),
    "long_text": ({"max_length"}, set()),
    "single_choice": ({"choices"}, set()),
    "multiple_choice": ({"choices"}, {"max_selected"}),
    "scale": ({"min", "max", "min_label", "max_label"}, set()),
    "list": ({"max_items", "item_max_length"}, set()),
    "ranked_cards": ({"cards"}, {"max_ranked"}),
    "date": (set(), set()),
    "repeating_rows": ({"fields", "max_rows", "add_label"}, {"min_rows"}),
}
BASE_FIELD_KEYS = {"id", "type", "label", "help", "required"}
FIELD_ID = re.compile(r"^[a-z][a-z0-9_]*$")
EXERCISE_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
CHECKLIST = re.compile(r"^- \[ \] (?P<label>.+?) \{#(?P<id>[a-z0-9]+(?:-[a-z0-9]+)*)\}\s*$")
UNSAFE = re.compile(r"<\s*/?\s*[a-zA-Z!]|javascript:|!\[", re.IGNORECASE)
GUIDELINE_SECTIONS = 9

_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable(["table", "strikethrough"])
    .disable("image")
)
# "- [ ] item" / "- [x] item": a list item that starts with a box (tight or loose list).
_TASK = re.compile(r"<li>(<p>)?\[( |x|X)\] ")


def _task(match: re.Match) -> str:
    # A box drawn as text, not a form control: nothing to label, nothing to tab to.
    box = "\u2611" if match[2] in "xX" else "\u2610"
    return (
        f'<li class="task">{match[1] or ""}<span class="task-box" aria-hidden="true">{box}</span> '
    )


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML and images switched off (they are escaped as text);
    GitHub-style tables and task lists ("- [ ] item") are rendered."""
    return _TASK.sub(_task, _md.render(text))


def guideline_html(markdown: str) -> str:
    """A guideline's HTML: its checklist ids ({#topic-id}) stay out of the text."""
    return render_markdown(CHECKLIST_ID_STRIP.sub("", markdown))


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ContentError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ChapterText:
    week: int
    language: str
    title: str
    markdown: str
    html: str
    words: int


@dataclass
class GuidelineText:
    week: int
    language: str
    markdown: str
    html: str
    checklist: list[dict[str, str]]


@dataclass
class ProgramContent:
    slug: str
    version: str
    program: dict[str, Any]
    exercises: dict[str, dict[str, Any]]
    chapters: list[ChapterText] = field(default_factory=list)
    guidelines: list[GuidelineText] = field(default_factory=list)
    checksum: str = ""
    structure: str = ""  # hash of what enrolments depend on: weeks, ids, values


class _Checker:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []

    def add(self, path: Path | str, line: int, message: str) -> None:
        rel = str(Path(path).relative_to(self.root)) if isinstance(path, Path) else path
        self.problems.append(Problem(rel, line, message))

    def line_of(self, path: Path, needle: str) -> int:
        try:
            for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if needle in text:
                    return number
        except OSError:
            pass
        return 1


def _load_json(checker: _Checker, path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        checker.add(path, 1, "file is missing")
    except json.JSONDecodeError as exc:
        checker.add(path, exc.lineno, f"not valid JSON: {exc.msg}")
    return None


def _check_fields(
    checker: _Checker, path: Path, fields: Any, where: str, nested: bool = False
) -> None:
    if not isinstance(fields, list) or not fields:
        checker.add(path, checker.line_of(path, '"fields"'), f"{where}: needs at least one field")
        return
    seen: set[str] = set()
    for item in fields:
        ident = str(item.get("id", ""))
        line = checker.line_of(path, f'"id": "{ident}"')
        kind = item.get("type")
        if kind not in FIELD_TYPES:
            checker.add(path, line, f"{where}.{ident}: unknown field type {kind!r}")
            continue
        if not FIELD_ID.match(ident):
            checker.add(path, line, f"{where}: field id {ident!r} must match {FIELD_ID.pattern}")
        if ident in seen:
            checker.add(path, line, f"{where}: field id {ident!r} is used twice")
        seen.add(ident)
        required, optional = FIELD_TYPES[kind]
        keys = set(item)
        if missing := required - keys:
            checker.add(path, line, f"{where}.{ident}: missing {sorted(missing)}")
        if extra := keys - BASE_FIELD_KEYS - required - optional:
            checker.add(path, line, f"{where}.{ident}: unknown keys {sorted(extra)}")
        for options in ("choices", "cards"):
            values = [c.get("value") for c in item.get(options, [])]
            if options in item and (
                len(values) < 2
                or len(set(values)) != len(values)
                or not all(FIELD_ID.match(str(v)) for v in values)
            ):
                checker.add(
                    path,
                    line,
                    f"{where}.{ident}: {options} need at least two unique values like 'some_value'",
                )
        if kind == "repeating_rows":
            if nested:
                checker.add(path, line, f"{where}.{ident}: rows cannot repeat inside rows")
            else:
                _check_fields(checker, path, item.get("fields"), f"{where}.{ident}", nested=True)


def _structure(
    program: dict[str, Any], exercises: dict[str, dict[str, Any]], checklists: dict[int, list[str]]
) -> str:
    def shape(fields: list[dict[str, Any]]) -> list[Any]:
        return [
            [
                f["id"],
                f["type"],
                [c["value"] for c in f.get("choices", f.get("cards", []))],
                shape(f.get("fields", [])),
            ]
            for f in fields
        ]

    data = {
        "weeks": [
            [w["number"], w["exercises"], shape(w["reflection"]["fields"])]
            for w in program["weeks"]
        ],
        "exercises": {k: shape(v["fields"]) for k, v in sorted(exercises.items())},
        "checklists": checklists,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def read_program(root: Path) -> ProgramContent:
    root = root.resolve()
    checker = _Checker(root)
    program = _load_json(checker, root / "program.json")
    exercise_paths = sorted((root / "exercises").glob("*.json"))
    exercises = {p.stem: _load_json(checker, p) for p in exercise_paths}
    if program is None or any(v is None for v in exercises.values()):
        raise ContentError(checker.problems)
    program_path = root / "program.json"
    for key in (
        "slug",
        "version",
        "title",
        "languages",
        "unlock_rule",
        "call_duration_minutes",
        "weeks",
    ):
        if key not in program:
            checker.add(program_path, 1, f"missing {key!r}")
    if checker.problems:
        raise ContentError(checker.problems)
    if program["slug"] != root.parent.name or str(program["version"]) != root.name:
        checker.add(
            program_path,
            checker.line_of(program_path, '"slug"'),
            "slug and version must equal the folder names",
        )
    if program["unlock_rule"] not in ("weekly", "all_at_once"):
        checker.add(
            program_path,
            checker.line_of(program_path, '"unlock_rule"'),
            "unlock_rule must be 'weekly' or 'all_at_once'",
        )
    unknown_languages = set(program["languages"]) - set(LANGUAGES)
    if "en" not in program["languages"] or unknown_languages:
        checker.add(
            program_path,
            checker.line_of(program_path, '"languages"'),
            f"languages must include 'en' and only {LANGUAGES}",
        )

    # Merge translations before checking that every listed language is complete.
    program_dir = root
    for stale in merge_translations(program, exercises, program_dir):
        checker.add(
            f"translations/{stale.split(':')[0]}",
            1,
            f"unknown key {stale.split(': ', 1)[1]!r} (stale translation)",
        )

    listed: dict[str, int] = {}
    for index, week in enumerate(program["weeks"], 1):
        if week.get("number") != index:
            checker.add(
                program_path,
                checker.line_of(program_path, f'"number": {week.get("number")}'),
                f"weeks must be numbered 1…N; found {week.get('number')} at position {index}",
            )
        for ident in week.get("exercises", []):
            if ident in listed:
                checker.add(
                    program_path,
                    checker.line_of(program_path, f'"{ident}"'),
                    f"exercise {ident!r} is listed in two weeks",
                )
            listed[ident] = index
            if ident not in exercises:
                checker.add(
                    program_path,
                    checker.line_of(program_path, f'"{ident}"'),
                    f"week {index} lists exercise {ident!r} but exercises/{ident}.json is missing",
                )
        _check_fields(
            checker,
            program_path,
            week.get("reflection", {}).get("fields"),
            f"week {index} reflection",
        )
    for ident, exercise in exercises.items():
        path = root / "exercises" / f"{ident}.json"
        if not EXERCISE_ID.match(ident) or exercise.get("id") != ident:
            checker.add(
                path,
                checker.line_of(path, '"id"'),
                "the id must equal the file name, like 'emotion-diary'",
            )
        if ident not in listed:
            checker.add(path, 1, "no week lists this exercise")
        elif exercise.get("week") != listed[ident]:
            checker.add(
                path,
                checker.line_of(path, '"week"'),
                f"week is {exercise.get('week')} but week {listed[ident]} lists it",
            )
        _check_fields(checker, path, exercise.get("fields"), ident)

    content = ProgramContent(
        slug=program["slug"], version=str(program["version"]), program=program, exercises=exercises
    )
    checklists: dict[int, list[str]] = {}
    for language in LANGUAGES:
        complete = language in program["languages"]
        for week in program["weeks"]:
            _read_week_texts(checker, root, content, week, language, complete, checklists)

    # Every listed language must be complete in the JSON too.
    for key, texts in iter_localised(program, exercises):
        for language in program["languages"]:
            if not str(texts.get(language, "")).strip():
                checker.add(
                    "translations/" + language + ".json", 1, f"missing translation for {key!r}"
                )
        for language, text in texts.items():
            if UNSAFE.search(str(text)):
                checker.add(
                    "translations/" + language + ".json",
                    1,
                    f"unsafe markup in {key!r}: text must be plain",
                )

    if checker.problems:
        raise ContentError(checker.problems)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    content.checksum = digest.hexdigest()
    content.structure = _structure(program, exercises, checklists)
    return content


def _read_week_texts(checker, root, content, week, language, complete, checklists) -> None:
    n = week["number"]
    chapter_path = root / "chapters" / language / week["chapter"]
    guide_path = root / "guidelines" / language / week["guideline"]
    if not chapter_path.exists() or not guide_path.exists():
        if complete:
            for path in (chapter_path, guide_path):
                if not path.exists():
                    checker.add(path, 1, f"file is missing, but {language!r} is listed as complete")
        return
    text = chapter_path.read_text(encoding="utf-8")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if UNSAFE.search(line):
            checker.add(
                chapter_path, number, "unsafe markup: raw HTML, scripts and images are not allowed"
            )
    headings = [i for i, line in enumerate(lines, 1) if line.startswith("# ")]
    if headings != [1]:
        checker.add(
            chapter_path,
            headings[1] if len(headings) > 1 else 1,
            "a chapter has exactly one '# ' heading, on its first line",
        )
    question = text.rsplit("\n## ", 1)[-1].partition("\n")[2].strip()
    expected = week["reflection"]["fields"][0]["label"].get(language)
    if expected and question != expected:
        checker.add(
            chapter_path,
            len(lines),
            "the last section's paragraph must equal the week's reflection question",
        )
    title = lines[0][2:].split(":", 1)[-1].strip() if lines else ""
    content.chapters.append(
        ChapterText(
            week=n,
            language=language,
            title=title,
            markdown=text,
            html=render_markdown(text),
            words=len(text.split()),
        )
    )

    guide = guide_path.read_text(encoding="utf-8")
    glines = guide.splitlines()
    sections = [line for line in glines if line.startswith("## ")]
    if len(sections) != GUIDELINE_SECTIONS:
        checker.add(
            guide_path,
            1,
            f"a guideline has {GUIDELINE_SECTIONS} '## ' sections; found {len(sections)}",
        )
    items = []
    for number, line in enumerate(glines, 1):
        if UNSAFE.search(line):
            checker.add(
                guide_path, number, "unsafe markup: raw HTML, scripts and images are not allowed"
            )
        if line.startswith("- [ ]"):
            match = CHECKLIST.match(line)
            if not match:
                checker.add(guide_path, number, "a checklist line reads '- [ ] label {#topic-id}'")
            else:
                items.append({"id": match["id"], "label": match["label"]})
    ids = [i["id"] for i in items]
    if language == "en":
        checklists[n] = ids
    elif n in checklists and ids != checklists[n]:
        checker.add(
            guide_path, 1, "checklist ids must be the same, in the same order, as in English"
        )
    html = guideline_html(guide)
    content.guidelines.append(
        GuidelineText(week=n, language=language, markdown=guide, html=html, checklist=items)
    )


CHECKLIST_ID_STRIP = re.compile(r"\s*\{#[a-z0-9-]+\}")
