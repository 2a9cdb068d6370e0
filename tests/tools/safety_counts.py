# -*- coding: utf-8 -*-
"""Print the counts of the safety suites (bad-input catalogue, fault suite) of the last integration run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

COUNTS = Path(__file__).resolve().parents[2] / "build" / "safety-counts.json"


def main():
    if not COUNTS.exists():
        print("safety suites: no counts (the integration tests did not run them)")
        return 1
    counts = json.loads(COUNTS.read_text(encoding="utf-8"))
    bad = 0
    for suite, numbers in sorted(counts.items()):
        total = sum(numbers.values())
        bad += numbers.get("failed", 0)
        print("%s: %d cases, %d as expected, %d not, %d skipped"
              % (suite, total, numbers.get("passed", 0), numbers.get("failed", 0), numbers.get("skipped", 0)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
