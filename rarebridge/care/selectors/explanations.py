"""The solver's reasons as translated sentences naming the rule and the people."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rarebridge.care.models import Clinic, RequiredAppointment

RULE_TITLES = {
    "setup": gettext_lazy("The set-up is incomplete"),
    "opening_hours": gettext_lazy("Opening hours and breaks"),
    "capacity": gettext_lazy("One place at a time"),
    "professional_hours": gettext_lazy("Professionals' hours"),
    "room": gettext_lazy("A suitable room"),
    "step_free": gettext_lazy("Step-free access"),
    "patient_days": gettext_lazy("The days the patient attends"),
    "precedence": gettext_lazy("Order of appointments"),
    "fasting": gettext_lazy("Fasting tests first and early"),
    "rest": gettext_lazy("Rest after a long test"),
    "lunch": gettext_lazy("Lunch break"),
    "max_span": gettext_lazy("Daily limit on time at the clinic"),
    "back_to_back": gettext_lazy("Brothers and sisters seen back to back"),
    "round_table": gettext_lazy("Round table at the end"),
}

RULE_SENTENCES = {
    "opening_hours": gettext_lazy(
        "An appointment is longer than any stretch of opening hours between breaks (%(people)s)."
    ),
    "capacity": gettext_lazy(
        "There are more appointments than the professionals, rooms and opening hours can hold."
    ),
    "professional_hours": gettext_lazy(
        "The professionals' hours are too short for what they must see (%(people)s)."
    ),
    "room": gettext_lazy(
        "No room of the needed kind is available to the professional (%(people)s)."
    ),
    "step_free": gettext_lazy(
        "The patient needs step-free rooms and there are not enough (%(people)s)."
    ),
    "patient_days": gettext_lazy(
        "The appointments do not fit the days the patient attends (%(people)s)."
    ),
    "precedence": gettext_lazy(
        "%(before)s must come before %(after)s, with the gap required (%(people)s)."
    ),
    "fasting": gettext_lazy("A fasting test must be first of the day and early (%(people)s)."),
    "rest": gettext_lazy("A long test must be followed by a rest (%(people)s)."),
    "lunch": gettext_lazy("The patient needs a lunch break around midday (%(people)s)."),
    "max_span": gettext_lazy(
        "The patient may be at the clinic at most the set number of hours a day (%(people)s)."
    ),
    "back_to_back": gettext_lazy(
        "Brothers and sisters must be seen back to back by one professional (%(people)s)."
    ),
    "round_table": gettext_lazy(
        "The round table comes after all the patient's appointments, with the whole team (%(people)s)."
    ),
}


def explanations_for(*, clinic: Clinic) -> list[dict[str, str]]:
    """The solver's reasons, as translated sentences naming the rule and the people."""
    names: dict[str, str] = {}
    for invitation in clinic.invitations.select_related("patient__user"):
        names[f"i{invitation.pk}"] = invitation.patient.user.full_name
    for pro in clinic.professionals.all():
        names[f"s{pro.pk}"] = f"{pro.name} ({pro.discipline})"
    labels = {
        f"a{a.pk}": a.label for a in RequiredAppointment.objects.filter(invitation__clinic=clinic)
    }
    found = []
    for reason in clinic.explanations:
        rule = reason.get("rule", "")
        params = reason.get("params", {})
        people = ", ".join(names.get(p, p) for p in reason.get("people", [])) or "—"
        values = {
            "people": people,
            "before": labels.get(str(params.get("before", "")), _("one appointment")),
            "after": labels.get(str(params.get("after", "")), _("another")),
        }
        sentence = RULE_SENTENCES.get(rule)
        found.append(
            {
                "rule": rule,
                "title": str(RULE_TITLES.get(rule, rule)),
                "sentence": str(sentence) % values if sentence else reason.get("message", ""),
            }
        )
    return found
