import json
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1])
LANGS = {"en", "de", "pl", "nl", "hu", "fr"}
TYPES = {
    "text",
    "long_text",
    "single_choice",
    "multiple_choice",
    "scale",
    "list",
    "ranked_cards",
    "date",
    "repeating_rows",
}
BASE = {"id", "type", "label", "help", "required"}
EXTRA = {
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
errors, warnings = [], []


def err(m):
    errors.append(m)


ID = re.compile(r"^[a-z][a-z0-9_]*$")
EXID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
CHK = re.compile(r"^- \[ \] (?P<label>.+) \{#(?P<id>[a-z0-9]+(?:-[a-z0-9]+)*)\}$")


def i18n(v, where, langs):
    if not isinstance(v, dict) or "en" not in v:
        return err(f"{where}: not localised text with en")
    for k, s in v.items():
        if k not in LANGS:
            err(f"{where}: unknown lang {k}")
        if not isinstance(s, str) or not s.strip():
            err(f"{where}: empty {k}")
        if isinstance(s, str) and re.search(r"[*_`#<>\[\]]", s) and False:
            pass
    for ln in langs:
        if ln not in v:
            err(f"{where}: missing {ln}")


def fields(fs, where, langs, nested=False):
    if not isinstance(fs, list) or not fs:
        return err(f"{where}: fields empty")
    seen = set()
    for f in fs:
        w = f"{where}.{f.get('id')}"
        t = f.get("type")
        if t not in TYPES:
            err(f"{w}: bad type {t}")
            continue
        if not ID.match(f.get("id", "")):
            err(f"{w}: bad id")
        if f["id"] in seen:
            err(f"{w}: dup id")
        seen.add(f["id"])
        req, opt = EXTRA[t]
        keys = set(f)
        if not req <= keys:
            err(f"{w}: missing {req - keys}")
        if keys - BASE - req - opt:
            err(f"{w}: extra keys {keys - BASE - req - opt}")
        if "required" in f and f["required"] is not True:
            err(f"{w}: required present but not true")
        i18n(f.get("label"), w + ".label", langs)
        if "help" in f:
            i18n(f["help"], w + ".help", langs)
        if t == "text" and not (0 < f["max_length"] <= 500):
            err(f"{w}: text max_length")
        if t == "long_text" and not (0 < f["max_length"] <= 5000):
            err(f"{w}: long_text max_length")
        if t in ("single_choice", "multiple_choice"):
            vals = [c["value"] for c in f["choices"]]
            if len(vals) < 2 or len(set(vals)) != len(vals) or not all(ID.match(v) for v in vals):
                err(f"{w}: choices")
            for c in f["choices"]:
                if set(c) != {"value", "label"}:
                    err(f"{w}: choice keys")
                i18n(c["label"], f"{w}.{c['value']}", langs)
            if "max_selected" in f and not (1 <= f["max_selected"] <= len(vals)):
                err(f"{w}: max_selected")
        if t == "scale":
            if not (
                isinstance(f["min"], int) and isinstance(f["max"], int) and f["min"] < f["max"]
            ):
                err(f"{w}: scale range")
            i18n(f["min_label"], w + ".min_label", langs)
            i18n(f["max_label"], w + ".max_label", langs)
        if t == "list" and not (f["max_items"] > 0 and f["item_max_length"] > 0):
            err(f"{w}: list limits")
        if t == "ranked_cards":
            vals = [c["value"] for c in f["cards"]]
            if len(vals) < 2 or len(set(vals)) != len(vals) or not all(ID.match(v) for v in vals):
                err(f"{w}: cards")
            for c in f["cards"]:
                if not {"value", "label"} <= set(c) <= {"value", "label", "help"}:
                    err(f"{w}: card keys")
                i18n(c["label"], f"{w}.{c['value']}", langs)
                if "help" in c:
                    i18n(c["help"], f"{w}.{c['value']}.help", langs)
            if "max_ranked" in f and not (1 <= f["max_ranked"] <= len(vals)):
                err(f"{w}: max_ranked")
        if t == "repeating_rows":
            if nested:
                err(f"{w}: nested rows")
            i18n(f["add_label"], w + ".add_label", langs)
            if f["max_rows"] < f.get("min_rows", 0) or f["max_rows"] < 1:
                err(f"{w}: rows limits")
            fields(f["fields"], w, langs, nested=True)


prog = json.loads((ROOT / "program.json").read_text())
if set(prog) != {
    "format",
    "slug",
    "version",
    "title",
    "summary",
    "languages",
    "unlock_rule",
    "call_duration_minutes",
    "weeks",
}:
    err("program keys")
if prog["format"] != 1:
    err("format")
if prog["slug"] != ROOT.parent.name or prog["version"] != ROOT.name:
    err("slug/version vs folder")
langs = prog["languages"]
if "en" not in langs or not set(langs) <= LANGS:
    err("languages")
if prog["unlock_rule"] not in ("weekly", "all_at_once"):
    err("unlock_rule")
if prog["call_duration_minutes"] != 30:
    err("call length")
i18n(prog["title"], "title", langs)
i18n(prog["summary"], "summary", langs)
listed, topic_ids = {}, {}
for i, wk in enumerate(prog["weeks"], 1):
    n = wk["number"]
    if n != i:
        err(f"week numbering {n}")
    if set(wk) != {"number", "title", "chapter", "guideline", "exercises", "reflection"}:
        err(f"week {n} keys")
    i18n(wk["title"], f"week {n}.title", langs)
    r = wk["reflection"]
    if set(r) != {"id", "title", "intro", "fields"} or r["id"] != f"week-{n}-reflection":
        err(f"week {n} reflection keys/id")
    i18n(r["title"], f"refl {n}", langs)
    i18n(r["intro"], f"refl {n}", langs)
    fields(r["fields"], f"refl {n}", langs)
    if r["fields"][0]["id"] != "answer" or r["fields"][0]["type"] != "long_text":
        err(f"refl {n} first field")
    if not (2 <= len(wk["exercises"]) <= 4):
        warnings.append(f"week {n}: {len(wk['exercises'])} exercises")
    for eid in wk["exercises"]:
        if eid in listed:
            err(f"exercise {eid} listed twice")
        listed[eid] = n
    for lang in langs:
        ch = ROOT / "chapters" / lang / wk["chapter"]
        gl = ROOT / "guidelines" / lang / wk["guideline"]
        if not ch.exists():
            err(f"missing {ch}")
            continue
        if not gl.exists():
            err(f"missing {gl}")
            continue
        text = ch.read_text()
        lines = text.splitlines()
        title = wk["title"][lang]
        if lines[0] != f"# Week {n}: {title}":
            err(f"{ch}: H1 {lines[0]!r}")
        if sum(1 for ln in lines if ln.startswith("# ")) != 1:
            err(f"{ch}: H1 count")
        if re.search(r"<[a-zA-Z/]|!\[|\]\(", text):
            err(f"{ch}: html/image/link")
        parts = text.split("\n## ")
        last = parts[-1]
        head, _, body = last.partition("\n")
        if head != "A question to bring to your call":
            err(f"{ch}: last section {head!r}")
        q = body.strip()
        if "\n\n" in q:
            err(f"{ch}: question is more than one paragraph")
        if q != r["fields"][0]["label"][lang]:
            err(f"{ch}: question != reflection label")
        if n in (1, len(prog["weeks"])) and "\n## A safety note\n" not in text:
            err(f"{ch}: safety note")
        wc = len(text.split())
        if not 1500 <= wc <= 2500:
            warnings.append(f"{ch}: {wc} words")
        # guideline
        g = gl.read_text()
        glines = g.splitlines()
        if glines[0] != f"# Week {n} call guide: {title}":
            err(f"{gl}: H1")
        secs = [ln[3:] for ln in glines if ln.startswith("## ")]
        want = [
            "Before the call",
            "Aims of this call",
            "Agenda (30 minutes)",
            "Opening questions",
            "Key messages",
            "Checklist",
            "What to avoid",
            "When and how to escalate",
            "After the call",
        ]
        if secs != want:
            err(f"{gl}: sections {secs}")
        cur, ids = None, []
        for ln in glines:
            if ln.startswith("## "):
                cur = ln[3:]
            if ln.startswith("- [ ]") or "{#" in ln:
                m = CHK.match(ln)
                if not m:
                    err(f"{gl}: bad checklist line {ln!r}")
                elif cur != "Checklist":
                    err(f"{gl}: checklist line outside Checklist")
                else:
                    ids.append(m["id"])
        if len(ids) != len(set(ids)):
            err(f"{gl}: dup topic ids")
        if f"w{n}-safety-check" not in ids:
            err(f"{gl}: no safety-check")
        if not all(i.startswith(f"w{n}-") for i in ids):
            err(f"{gl}: prefix")
        topic_ids.setdefault(lang, []).extend(ids)
        if "**This week in particular:**" not in g:
            err(f"{gl}: week note")
    # exercise titles in chapter (en)
files = {p.stem: p for p in (ROOT / "exercises").glob("*.json")}
if set(files) != set(listed):
    err(f"exercise files vs listed: {set(files) ^ set(listed)}")
esc = set()
for eid, p in files.items():
    e = json.loads(p.read_text())
    if set(e) != {"id", "week", "title", "intro", "estimated_minutes", "fields"}:
        err(f"{eid}: keys")
    if e["id"] != eid or not EXID.match(eid):
        err(f"{eid}: id")
    if listed.get(eid) != e["week"]:
        err(f"{eid}: week mismatch")
    i18n(e["title"], eid + ".title", langs)
    i18n(e["intro"], eid + ".intro", langs)
    fields(e["fields"], eid, langs)
    for lang in langs:
        ch = (ROOT / "chapters" / lang / f"week-{e['week']}.md").read_text()
        if f"**{e['title'][lang]}**" not in ch:
            warnings.append(f"{eid}: title not in bold in chapter {lang}")
for lang, ids in topic_ids.items():
    if len(ids) != len(set(ids)):
        err(f"{lang}: topic ids not unique in version")
    if set(ids) != set(topic_ids["en"]):
        err(f"{lang}: topic ids differ from en")
# escalate section identical
blocks = set()
for n in range(1, len(prog["weeks"]) + 1):
    g = (ROOT / "guidelines/en" / f"week-{n}.md").read_text()
    blocks.add(g.split("## When and how to escalate")[1].split("**This week in particular:**")[0])
if len(blocks) != 1:
    err("escalation text differs between weeks")
print("ERRORS:", *errors, sep="\n  ") if errors else print("no errors")
print("WARNINGS:", *warnings, sep="\n  ") if warnings else print("no warnings")
print(
    "topics per week:",
    {n: sum(1 for i in topic_ids["en"] if i.startswith(f"w{n}-")) for n in range(1, 7)},
)
