"""Every LEGATION_* setting the code reads is documented in the README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Set by tests only, never by an operator.
TEST_ONLY = {"LEGATION_CRASH_AT", "LEGATION_TEST_DB_NAME", "LEGATION_DB_TESTS_ONLY"}


def test_every_setting_is_in_the_readme():
    read = set()
    for path in (ROOT / "legation").rglob("*.py"):
        if "tests" in path.parts:
            continue
        read |= set(re.findall(r"LEGATION_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    documented = set(re.findall(r"LEGATION_[A-Z_]+[A-Z]", (ROOT / "README.md").read_text(encoding="utf-8")))
    documented |= {name.removesuffix("_FILE") for name in documented}
    missing = sorted(name for name in read - TEST_ONLY if name.removesuffix("_FILE") not in documented)
    assert missing == [], f"document these in README.md's configuration table: {missing}"
