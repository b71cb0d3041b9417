"""The coverage floor only rises.

``make test`` measures coverage and fails below ``fail_under`` in pyproject.toml. After a run,
``python scripts/coverage_floor.py`` prints the total; with ``--raise`` it lifts the floor to
the measured total (rounded down to a whole percent) when that is higher, so the next change
cannot quietly lower it. It never lowers the floor.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
FLOOR = re.compile(r"^fail_under = (\d+(?:\.\d+)?)$", re.MULTILINE)


def measured_total() -> float:
    out = subprocess.run(
        [sys.executable, "-m", "coverage", "report", "--format=total", "--precision=2"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.strip())


def main(argv: list[str]) -> int:
    text = PYPROJECT.read_text(encoding="utf-8")
    match = FLOOR.search(text)
    if match is None:
        print("pyproject.toml has no fail_under line", file=sys.stderr)
        return 2
    floor = float(match.group(1))
    total = measured_total()
    print(f"coverage {total:.2f}% (floor {floor:g}%)")
    new_floor = math.floor(total)
    if "--raise" in argv and new_floor > floor:
        PYPROJECT.write_text(
            FLOOR.sub(f"fail_under = {new_floor}", text, count=1), encoding="utf-8"
        )
        print(f"floor raised to {new_floor}%")
    return 0 if total >= floor else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
