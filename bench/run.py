"""Run every benchmark under bench/ and print its median.

A benchmark module is any ``bench/bench_*.py`` that defines ``BENCHMARKS``: a list of
``Benchmark`` entries. Each entry has a name, an optional ``setup`` (run once, untimed, its
result passed to ``run``), a ``run`` callable, a repeat count and an optional goal in seconds.
Benchmarks are measurements, not tests: a missed goal is reported, never a failure.

    python bench/run.py            # everything
    python bench/run.py matching   # only modules whose name contains "matching"
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class Benchmark:
    name: str
    run: Callable[[Any], Any]
    setup: Callable[[], Any] | None = None
    repeat: int = 5
    goal_seconds: float | None = None
    # Extra figures a benchmark wants reported (an objective, a gap); filled by ``run``.
    notes: dict[str, Any] = field(default_factory=dict)


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _django_setup() -> None:
    # Benchmarks that touch the database need Django configured; pure engine ones do not.
    sys.path.insert(0, str(BENCH_DIR.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(BENCH_DIR.parent))
    wanted = argv[1:]
    modules = sorted(BENCH_DIR.glob("bench_*.py"))
    if not wanted and len(modules) > 1:
        # Each module in its own process: each builds its own database and Django settings.
        import subprocess

        failed = 0
        for module in modules:
            failed |= subprocess.call([sys.executable, __file__, module.stem])  # noqa: S603 - our own file
        return failed
    if wanted:
        modules = [m for m in modules if any(w in m.stem for w in wanted)]
    print(f"{'benchmark':<58} {'median':>10} {'min':>10} {'goal':>8}")
    for path in modules:
        module = _load(path)
        if getattr(module, "NEEDS_DJANGO", False):
            _django_setup()
        for bench in module.BENCHMARKS:
            state = bench.setup() if bench.setup else None
            times = []
            for _ in range(bench.repeat):
                start = time.perf_counter()
                bench.run(state)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            goal = f"{bench.goal_seconds:g}s" if bench.goal_seconds else "-"
            flag = ""
            if bench.goal_seconds and median > bench.goal_seconds:
                flag = "  (over goal)"
            print(
                f"{bench.name:<58} {median * 1000:>8.1f}ms {min(times) * 1000:>8.1f}ms {goal:>8}{flag}"
            )
            for key, value in bench.notes.items():
                print(f"    {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
