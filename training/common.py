"""Shared helpers for the training scripts: data location, sparse matrices, fitting, scoring.

Training needs scikit-learn and scipy; the shipped models need only numpy at run time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sklearn.metrics import f1_score

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from legation.nlp.train import build_vocab, fit_linear, matrix  # noqa: E402,F401

MODELS_DIR = REPO / "legation" / "nlp" / "models"


def shared_data(arg: str | None = None) -> Path:
    """The training data folder: --data argument, else LEGATION_SHARED_DATA, else ../shared/data."""
    raw = arg or os.environ.get("LEGATION_SHARED_DATA") or str(REPO.parent / "shared" / "data")
    path = Path(raw)
    if not path.is_dir():
        raise SystemExit(f"training data folder not found: {path} (set LEGATION_SHARED_DATA)")
    return path


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    return float(f1_score(list(gold), list(pred), average="macro"))
