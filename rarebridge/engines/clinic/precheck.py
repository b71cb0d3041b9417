"""Cheap checks that explain the commonest impossible plans before any search.

Each finds a single rule that no timetable could keep ("the audiology review is longer than
the audiologist's morning") and says so in words. Conflicts between several rules are left to
the solver's explanation (``solver.explain``); these are faster and name the cause exactly.
"""

from __future__ import annotations

from collections import defaultdict

from rarebridge.engines.clinic.problem import ROUND_TABLE, Problem, Task
from rarebridge.engines.clinic.results import Explanation, Rule


def precheck(*, problem: Problem) -> tuple[Explanation, ...]:
    found: list[Explanation] = []
    for task in problem.tasks:
        found += _task_fits(problem=problem, task=task)
    found += _staff_load(problem=problem)
    found += _patient_load(problem=problem)
    found += _cycles(problem=problem)
    found += _blocks(problem=problem)
    return tuple(found)


def _team(problem: Problem, task: Task) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for o in task.options for p in o.team))


def _names(problem: Problem, people: tuple[str, ...]) -> str:
    return ", ".join(problem.who(person=p) for p in people)


def _task_fits(*, problem: Problem, task: Task) -> list[Explanation]:
    days = problem.patient_days(patient=task.patient)
    everyone = (task.patient, *_team(problem, task))
    what = problem.what(task=task.id)
    length = problem.minutes(steps=task.duration)
    all_days = range(problem.day_count)
    if not problem.starts(task=task, option=None, days=all_days, hours=False, fasting=False):
        return [
            Explanation(
                rule=Rule.OPENING_HOURS,
                people=(task.patient,),
                message=f"{what} takes {length}, longer than any opening stretch between breaks.",
                params={"task": task.id, "duration": task.duration},
            )
        ]
    if not problem.starts(task=task, option=None, days=days, hours=False, fasting=False):
        return [
            Explanation(
                rule=Rule.PATIENT_DAYS,
                people=(task.patient,),
                message=f"{what} ({length}) fits no opening stretch on the days "
                f"{problem.who(person=task.patient)} attends.",
                params={"task": task.id, "days": ",".join(str(d) for d in days)},
            )
        ]
    if not problem.starts(task=task, option=None, days=days, fasting=False):
        together = " together" if task.kind == ROUND_TABLE else ""
        return [
            Explanation(
                rule=Rule.PROFESSIONAL_HOURS,
                people=everyone,
                message=f"{what} takes {length}, but {_names(problem, everyone[1:])} "
                f"{'are' if len(everyone) > 2 else 'is'} never free that long{together} on the "
                f"days {problem.who(person=task.patient)} attends.",
                params={"task": task.id, "duration": task.duration},
            )
        ]
    if not problem.starts(task=task, option=None, days=days):
        latest = min(problem.fasting_by(day=d) for d in days)
        return [
            Explanation(
                rule=Rule.FASTING,
                people=everyone,
                message=f"{what} is a fasting test and must start by "
                f"{problem.clinic.clock_at(step=latest):%H:%M}, but {_names(problem, everyone[1:])} "
                "cannot see them that early.",
                params={"task": task.id, "fasting_by": latest},
            )
        ]
    options = range(len(task.options))
    if not any(problem.rooms_for(task=task, option=k, step_free=False) for k in options):
        kind = task.room_kind or "any"
        return [
            Explanation(
                rule=Rule.ROOM,
                people=everyone,
                message=f"{what} needs a room of kind '{kind}' that "
                f"{_names(problem, everyone[1:])} can use, and there is none.",
                params={"task": task.id, "room_kind": kind},
            )
        ]
    if not any(problem.rooms_for(task=task, option=k) for k in options):
        return [
            Explanation(
                rule=Rule.STEP_FREE,
                people=everyone,
                message=f"{problem.who(person=task.patient)} needs step-free access, and no "
                f"step-free room suits {what}.",
                params={"task": task.id},
            )
        ]
    return []


def _staff_load(*, problem: Problem) -> list[Explanation]:
    """A professional every option of a task needs, with more such tasks than working time."""
    needed: dict[str, int] = defaultdict(int)
    days: dict[str, set[int]] = defaultdict(set)
    for task in problem.tasks:
        for pro in set.intersection(*(set(o.team) for o in task.options)):
            needed[pro] += task.duration
            days[pro].update(problem.patient_days(patient=task.patient))
    found = []
    for pro, steps in needed.items():
        available = 0
        for day in days[pro]:
            for shift in problem.shifts(professional=pro, day=day):
                for segment in problem.open_segments(day=day):
                    available += max(0, min(shift[1], segment[1]) - max(shift[0], segment[0]))
        if steps > available:
            found.append(
                Explanation(
                    rule=Rule.PROFESSIONAL_HOURS,
                    people=(pro,),
                    message=f"{problem.who(person=pro)} has {problem.minutes(steps=steps)} of "
                    f"appointments but works {problem.minutes(steps=available)} while the clinic is open.",
                    params={"professional": pro, "needed": steps, "available": available},
                )
            )
    return found


def _patient_load(*, problem: Problem) -> list[Explanation]:
    found = []
    for patient in problem.clinic.patients:
        steps = sum(t.duration for t in problem.tasks_of[patient.id])
        days = problem.patient_days(patient=patient.id)
        opening = {d: sum(e - s for s, e in problem.open_segments(day=d)) for d in days}
        if steps <= sum(opening.values()) and (
            patient.max_span is None
            or steps <= sum(min(patient.max_span, o) for o in opening.values())
        ):
            continue
        capped = steps <= sum(opening.values())
        found.append(
            Explanation(
                rule=Rule.MAX_SPAN if capped else Rule.PATIENT_DAYS,
                people=(patient.id,),
                message=f"{problem.who(person=patient.id)} has {problem.minutes(steps=steps)} of "
                "appointments, more than "
                + ("their daily limit allows" if capped else "the clinic is open on their days")
                + f" over {len(days)} day(s).",
                params={"patient": patient.id, "needed": steps},
            )
        )
    return found


def _cycles(*, problem: Problem) -> list[Explanation]:
    successors: dict[str, list[str]] = defaultdict(list)
    for _, rule in problem.precedences:
        successors[rule.before].append(rule.after)
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []
    found = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in successors[node]:
            if state.get(nxt) == 1:
                return path[path.index(nxt) :]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return None

    for task in problem.tasks:
        if task.id not in state:
            path.clear()
            cycle = visit(task.id)
            if cycle:
                patient = problem.task[cycle[0]].patient
                found.append(
                    Explanation(
                        rule=Rule.PRECEDENCE,
                        people=(patient,),
                        message="These must each come before the next, in a circle: "
                        + " -> ".join(problem.what(task=t) for t in [*cycle, cycle[0]])
                        + ".",
                        params={"cycle": ",".join(cycle)},
                    )
                )
    return found


def _blocks(*, problem: Problem) -> list[Explanation]:
    found = []
    for group, block in problem.blocks:
        tasks = [problem.task[t] for t in block]
        common = set.intersection(*({o.team[0] for o in t.options} for t in tasks))
        if not common:
            found.append(
                Explanation(
                    rule=Rule.BACK_TO_BACK,
                    people=tuple(t.patient for t in tasks),
                    message="No single professional can see "
                    + " and ".join(problem.what(task=t.id) for t in tasks)
                    + " back to back.",
                    params={"group": group, "block": ",".join(block)},
                )
            )
    return found
