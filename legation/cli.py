"""The ``legation`` console command: Django management commands, plus ``legation nlp`` which needs no Django."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "nlp":
        from legation.nlp.cli import main as nlp_main

        return nlp_main(args[2:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legation.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["legation", *args[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
