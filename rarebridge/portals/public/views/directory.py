"""The public directory: search by condition, country and language; an entry; a condition;
suggest an entry. No sign-in needed. Thin: selectors read, one service writes."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rarebridge.core.audit import client_ip
from rarebridge.directory.forms import SuggestForm
from rarebridge.directory.selectors import (
    condition_get,
    condition_groups,
    condition_search,
    directory_fallback,
    directory_search,
    entry_get_public,
    language_choices,
)
from rarebridge.directory.services import entry_suggest
from rarebridge.portals.public.forms.directory import SearchForm

PAGE_SIZE = 20
SUGGESTIONS_PER_HOUR = 10


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
def search(request):
    language = get_language()
    form = SearchForm(request.GET or None, language=language)
    condition = None
    matches: list = []
    no_condition = False
    country = chosen_language = kind = q = ""
    if form.is_valid():
        data = form.cleaned_data
        q, country, chosen_language, kind = (
            data["q"].strip(),
            data["country"],
            data["language"],
            data["kind"],
        )
        if data["condition"]:
            try:
                condition = condition_get(orphacode=data["condition"])
            except Http404:
                no_condition = True
        elif q:
            matches = condition_search(query=q, language=language)
            condition = matches[0].condition if matches else None
            no_condition = not matches
    searched = bool(q or condition or country or chosen_language or kind)
    page = None
    fallback = None
    if not no_condition:
        entries = directory_search(
            condition=condition, country=country, language=chosen_language, kind=kind
        )
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    if searched and (page is None or page.paginator.count == 0):
        fallback = directory_fallback(
            condition=condition, country=country, language=chosen_language
        )
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "q": q,
            "condition": condition,
            "other_matches": [m for m in matches if m.condition != condition][:8],
            "no_condition": no_condition,
            "page": page,
            "fallback": fallback,
            "searched": searched,
            "query": _query_without_page(request),
            "country": country,
            "chosen_language": chosen_language,
            "kind": kind,
        },
    )


@require_GET
def entry(request, slug: str):
    return render(request, "directory/entry.html", {"entry": entry_get_public(slug=slug)})


@require_GET
def condition(request, orphacode: int):
    item = condition_get(orphacode=orphacode)
    language = get_language()
    others = [
        (code, item.names[code]) for code, _name in language_choices() if item.names.get(code)
    ]
    return render(
        request,
        "directory/condition.html",
        {
            "condition": item,
            "name": item.name_in(language),
            "synonyms": item.synonyms_in(language) or item.synonyms_in("en"),
            "other_names": [(code, name) for code, name in others if code != language],
            "groups": condition_groups(condition=item),
            "children": sorted(
                item.children.filter(is_active=True), key=lambda c: c.name_in(language)
            ),
            "entries": list(directory_search(condition=item)[:10]),
        },
    )


def _rate_limited(request) -> bool:
    key = f"directory:suggest:{client_ip(request) or 'unknown'}"
    count = cache.get(key, 0)
    if count >= SUGGESTIONS_PER_HOUR:
        return True
    cache.set(key, count + 1, 3600)
    return False


@require_http_methods(["GET", "POST"])
def suggest(request):
    form = SuggestForm(request.POST or None, language=get_language())
    if request.method == "POST" and form.is_valid():
        if _rate_limited(request):
            form.add_error(
                None, _("Too many suggestions from here in the last hour. Please try again later.")
            )
        else:
            try:
                entry_suggest(
                    data=form.to_data(),
                    by=request.actor,
                    suggester_email=form.cleaned_data.get("suggester_email", ""),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _(
                        "Thank you. A program admin will check your suggestion before it appears in the directory."
                    ),
                )
                return redirect("directory:search")
    return render(
        request, "directory/suggest.html", {"form": form}, status=422 if form.errors else 200
    )
