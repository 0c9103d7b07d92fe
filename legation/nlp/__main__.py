"""``python -m legation.nlp ...``: the language models' command line (see :mod:`legation.nlp.cli`)."""

from __future__ import annotations

import sys

from legation.nlp.cli import main

sys.exit(main(sys.argv[1:]))
