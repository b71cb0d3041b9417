"""The shape of the code, checked: modules a newcomer can hold in their head, each portal one
package with its own templates, and no service that takes the HTTP request."""

import ast
import pathlib
from collections import Counter

from django.conf import settings

ROOT = pathlib.Path(__file__).resolve().parent.parent / "rarebridge"
MAX_LINES = 600


def _modules():
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] == "engines" or "migrations" in parts:
            continue
        yield path


def test_no_module_outside_engines_and_migrations_is_over_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_template_name_is_shadowed_by_another_portals_template():
    dirs = [pathlib.Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    names = Counter(str(p.relative_to(d)) for d in dirs for p in d.rglob("*.html"))
    assert [name for name, count in names.items() if count > 1] == []


def test_no_service_or_selector_takes_the_http_request():
    offenders = []
    for path in _modules():
        parts = path.relative_to(ROOT).parts
        if parts[0] == "portals" or not any(
            part.startswith(("services", "selectors")) for part in parts
        ):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = node.args.args + node.args.kwonlyargs
                if any(a.arg == "request" for a in arguments):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert offenders == []
