"""Classification scores without scikit-learn: accuracy, macro-F1, per-class scores, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence


def classification_report(gold: Sequence[str], pred: Sequence[str]) -> dict[str, object]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix (rows: gold)."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    labels = sorted(set(gold) | set(pred))
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        confusion[index[g]][index[p]] += 1
    per_class: dict[str, dict[str, float]] = {}
    f1s: list[float] = []
    for label, i in index.items():
        tp = confusion[i][i]
        predicted = sum(row[i] for row in confusion)
        support = sum(confusion[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                            "support": support}
        if support:  # classes absent from the gold labels do not count towards macro-F1
            f1s.append(f1)
    correct = sum(g == p for g, p in zip(gold, pred, strict=True))
    return {
        "n": len(gold),
        "accuracy": round(correct / len(gold), 4) if gold else 0.0,
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        "per_class": per_class,
        "labels": labels,
        "confusion_matrix": confusion,
    }
