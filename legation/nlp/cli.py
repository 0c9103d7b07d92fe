"""Command line of the language models: predict, evaluate, train, bench.

Called as ``legation nlp ...`` (``legation.nlp.cli.main(sys.argv[2:])``) or ``python -m legation.nlp ...``;
needs no Django. Input files hold one text per line, or JSON lines with a ``text`` field (``--jsonl``).
A malformed line is reported by number on stderr and the rest is kept.
"""

from __future__ import annotations

import argparse
import codecs
import json
import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

TASKS = ("language", "sentiment", "crisis", "places")
TRAINABLE = ("sentiment", "crisis")


def _user_model_dir() -> Path:
    raw = os.environ.get("LEGATION_NLP_MODELS")
    if raw:
        return Path(raw)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "legation" / "nlp"


class UsageError(Exception):
    """A problem with the user's input (a file, a model, a label): printed as ``error: ...``, exit status 2."""


def _utf16_without_bom(raw: bytes) -> str | None:
    """"utf-16-le" or "-be" for a file that is plainly UTF-16 without a byte-order mark (most of its even or of
    its odd bytes are NULs, as in text of Latin script), else None."""
    if len(raw) < 4 or len(raw) % 2 or raw.count(0) < len(raw) // 3:
        return None
    even, odd = raw[0::2].count(0), raw[1::2].count(0)
    if odd > 0.6 * len(raw) // 2 and even < 0.1 * len(raw) // 2:
        return "utf-16-le"
    if even > 0.6 * len(raw) // 2 and odd < 0.1 * len(raw) // 2:
        return "utf-16-be"
    return None


def decode(raw: bytes, encoding: str | None = None, err: TextIO | None = None, name: str = "") -> str:
    """A file's text: in ``encoding`` when one is given; else UTF-8 (a spreadsheet's byte-order mark dropped),
    or UTF-16 with its byte-order mark (what Windows calls "Unicode" text) or plainly UTF-16 without one.
    Undecodable bytes become U+FFFD, and ``err`` is told how many lines had such bytes (a file in another
    encoding, such as Windows-1252, is read with --encoding)."""
    if encoding:
        return raw.decode(encoding, errors="replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    utf16 = _utf16_without_bom(raw)
    if utf16:
        return raw.decode(utf16, errors="replace")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8-sig", errors="replace")
    if err is not None:
        bad = [n for n, line in enumerate(text.split("\n"), start=1) if "\ufffd" in line]
        if bad:
            err.write(f"{name}: {len(bad)} lines are not valid UTF-8 (the first is line {bad[0]}); their "
                      f"unreadable bytes were replaced. Give --encoding (for example cp1252 or latin-1) if the "
                      f"file is in another encoding\n")
    return text


def read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def read_lines(path: str, encoding: str | None = None, err: TextIO | None = None) -> list[str]:
    lines = decode(read_bytes(path), encoding, err, path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def parse_json(line: str) -> object:
    """One JSON line; ``ValueError("not valid JSON (...)")`` also for one nested too deeply or with a number too
    long to read (Python's own limits), not a RecursionError."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    except RecursionError:
        raise ValueError("not valid JSON (nested too deeply)") from None
    except ValueError:  # an integer of more than sys.get_int_max_str_digits() digits
        raise ValueError("not valid JSON (a number with too many digits)") from None


def read_texts(path: str, jsonl: bool, err: TextIO, field: str = "text",
               encoding: str | None = None) -> list[str | None]:
    """The text of each line of a file, in order (``-`` is standard input). With ``jsonl``, a blank line or one
    without a string ``field`` gives ``None`` in its place (and a bad one is reported on ``err`` by number), so
    that results still line up with the input's lines."""
    lines = read_lines(path, encoding, err)
    if not jsonl:
        return list(lines)
    texts: list[str | None] = []
    for number, line in enumerate(lines, start=1):
        value: object = None
        if line.strip():  # a blank line is no record: its result is left empty without a word
            try:
                obj = parse_json(line)
            except ValueError as exc:
                reason = str(exc)
            else:
                value = obj.get(field) if isinstance(obj, dict) else None
                reason = ("not a JSON object" if not isinstance(obj, dict) else f"no {field!r} field"
                          if field not in obj else f"{field!r} is {type(value).__name__}, not a string")
            if not isinstance(value, str):
                err.write(f"{path}:{number}: {reason}; its result is left empty\n")
        texts.append(value if isinstance(value, str) else None)
    return texts


def task_labels(task: str) -> tuple[str, ...]:
    """The labels the shipped models of a trainable task give."""
    if task == "sentiment":
        from legation.nlp.sentiment import CLASSES as SENTIMENT

        return SENTIMENT
    from legation.nlp.crisis import CLASSES as CRISIS

    return CRISIS


def read_labelled(
    path: str, err: TextIO, known: Sequence[str] | None = None, encoding: str | None = None
) -> tuple[list[str], list[str]]:
    """(texts, labels) from JSONL (``text``, ``label``) or TSV (``text<TAB>label``; a header is allowed).

    The format is the file's name (``.jsonl``/``.json``, ``.tsv``/``.txt``), else its first line's: a TSV
    text may start with "{" ("{URGENT} bridge closed"). A line with an empty text is skipped and reported.
    With ``known`` (the task's shipped labels), such a label is read without regard to case (see
    :func:`canonical_labels`); other labels are kept as written (a ministry may train its own classes)."""
    texts: list[str] = []
    labels: list[str] = []
    lines = read_lines(path, encoding, err)
    suffix = Path(path).suffix.lower()
    first = next((line for line in lines if line.strip()), "")
    jsonl = suffix in (".jsonl", ".json") or (suffix not in (".tsv", ".txt") and first.lstrip().startswith("{")
                                              and "\t" not in first)
    filled = [line for line in lines if line.strip()]
    if not jsonl and filled and not any("\t" in line for line in filled) and sum(
            ("," in line or ";" in line) for line in filled) > len(filled) / 2:
        raise UsageError(f"{path}: no line has a tab; the file looks comma-separated. Train reads TSV (the text, "
                         f"a tab, its label) or JSON lines with 'text' and 'label'")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            if jsonl:
                obj = parse_json(line)
                if not isinstance(obj, dict):
                    raise TypeError("not a JSON object")
                text, label = obj["text"], obj["label"]
                if not isinstance(text, str) or not isinstance(label, str):
                    raise TypeError("'text' and 'label' must be strings")
            else:
                if "\t" not in line:
                    raise ValueError("no tab between the text and its label")
                text, label = line.rsplit("\t", 1)
                if number == 1 and label.strip().lower() in ("label", "class", "class_label"):
                    continue
            if not label.strip():
                raise ValueError("empty label")
            if not text.strip():
                raise ValueError("empty text")
        except (ValueError, KeyError, TypeError) as exc:
            reason = f"no {exc} field" if isinstance(exc, KeyError) else str(exc)
            err.write(f"{path}:{number}: skipped ({reason})\n")
            continue
        texts.append(text)
        labels.append(label)
    return texts, canonical_labels(labels, known)


def canonical_labels(labels: Sequence[str], known: Sequence[str] | None) -> list[str]:
    """``labels`` without surrounding spaces, and those that are one of ``known`` in another case as written there
    ("POSITIVE" is positive); other labels are kept as written."""
    by_folded = {k.casefold(): k for k in known or ()}
    return [by_folded.get(x.strip().casefold(), x.strip()) for x in labels]


# Codes a gold file may use for a language our detector names otherwise: Filipino is Tagalog; the old
# Hebrew, Indonesian and Yiddish codes; Norwegian Bokmål is Norwegian; Chinese in any script is zh.
LANGUAGE_ALIASES = {"fil": "tl", "iw": "he", "in": "id", "ji": "yi", "nb": "no", "zh-hans": "zh", "zh-hant": "zh"}


def language_code(label: str) -> str | None:
    """The ISO 639-1 code our detector gives for a gold language label ("fr", "FR", "fr-FR", "fr_CA", "fra",
    "fre", "fil"), "und" for none, or None for something that is no language code."""
    import pycountry

    code = label.strip().lower().replace("_", "-")
    if code in ("und", "zxx", ""):
        return "und" if code else None
    code = LANGUAGE_ALIASES.get(code, code)
    base = LANGUAGE_ALIASES.get(code.split("-")[0], code.split("-")[0])
    if len(base) == 2:
        return base if pycountry.languages.get(alpha_2=base) is not None else None
    if len(base) == 3:
        from legation.nlp.language import _FASTTEXT_TO_639_1

        if base in _FASTTEXT_TO_639_1:  # as the detector names it: Egyptian Arabic is ar, Cebuano tl
            return _FASTTEXT_TO_639_1[base]
        found = pycountry.languages.get(alpha_3=base) or pycountry.languages.get(bibliographic=base)
        if found is None:
            return None
        alpha_2 = getattr(found, "alpha_2", None)
        return LANGUAGE_ALIASES.get(alpha_2, alpha_2) if alpha_2 else base  # "sco": the detector's code too
    return None


def model_classes(task: str, tier: str, model: str | None) -> list[str]:
    """The labels the task's models give (a ministry's model file is checked here: a clear error, not a trace)."""
    import zipfile

    from legation.nlp.classify import load_models

    if model is not None and task not in TRAINABLE:
        raise UsageError(f"--model applies to {' and '.join(TRAINABLE)}; {task} uses the shipped models")
    try:
        loaded = load_models(task, tier, model)[0]
    except FileNotFoundError:
        raise UsageError(f"{model}: no such model file") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{model}: not a model written by 'legation nlp train' ({type(exc).__name__})") from None
    trained_for = loaded.meta.get("task")
    if model is not None and isinstance(trained_for, str) and trained_for != task:
        raise UsageError(f"{model}: a model trained for {trained_for}, not {task}")
    return list(loaded.classes)


def predict_task(task: str, texts: Sequence[str], tier: str, model: str | None) -> list[str]:
    """One output line per text: a label, or JSON for places."""
    from legation import nlp
    from legation.nlp.language import detect_languages_scored

    if task in TRAINABLE or model is not None:
        model_classes(task, tier, model)
    if task == "language":
        # The fast tier's cascade is the one listening ingestion runs (no Lingua step), as in nlp.enrich.
        return [code for code, _ in detect_languages_scored(texts, tier != "fast")]
    if task == "sentiment":
        return nlp.sentiment(texts, tier=tier, model_path=model)
    if task == "crisis":
        return nlp.crisis_categories(texts, tier=tier, model_path=model)
    if task == "places":
        return [json.dumps([p.to_dict() for p in ps], ensure_ascii=False) for ps in nlp.extract_places(texts)]
    raise ValueError(f"unknown task {task}")


def predict_lines(task: str, texts: Sequence[str | None], tier: str, model: str | None) -> list[str | None]:
    """:func:`predict_task` over the lines that hold a text; None in the place of those that do not."""
    predicted = iter(predict_task(task, [t for t in texts if t is not None], tier, model))
    return [None if t is None else next(predicted) for t in texts]


def _tier_with_model(args: argparse.Namespace, err: TextIO) -> None:
    if args.model is not None and args.tier != "fast":
        err.write(f"note: --tier {args.tier} is not used with --model: the model file is read alone\n")


def cmd_predict(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _tier_with_model(args, err)
    texts = read_texts(args.input, args.jsonl, err, encoding=args.encoding)
    for line in predict_lines(args.task, texts, args.tier, args.model):
        out.write(("" if line is None else line) + "\n")  # a JSON line that could not be read keeps its place
    return 0


def cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from legation.nlp.metrics import classification_report

    if args.task == "places":
        err.write("error: places are not evaluated as labels\n")
        return 2
    _tier_with_model(args, err)
    texts = read_texts(args.texts, args.jsonl, err, encoding=args.encoding)
    labels = read_lines(args.labels, args.encoding, err)
    if len(texts) != len(labels):
        err.write(f"error: {len(texts)} texts but {len(labels)} labels (one label per line of {args.texts})\n")
        return 2
    if not texts:
        err.write(f"error: {args.texts} holds no text to score\n")
        return 2
    known = model_classes(args.task, args.tier, args.model) if args.task in TRAINABLE else None
    labels = canonical_labels(labels, known)
    if args.task == "language":  # "FR", "fr-FR", "fra" and "fre" are all French
        labels = [language_code(x) or x for x in labels]
    unknown = [(n, x) for n, x in enumerate(labels, start=1) if texts[n - 1] is not None
               and (not x or (known is not None and x not in known)
                    or (args.task == "language" and language_code(x) is None))]
    if unknown:
        shown = ", ".join(f"line {n}: {x!r}" for n, x in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        expected = (f"; the labels are {', '.join(known)}" if known and len(known) <= 20 else
                    f"; the model has {len(known)} labels" if known else
                    "; a language is an ISO 639 code (fr, fr-FR, fra) or und" if args.task == "language" else "")
        err.write(f"error: {len(unknown)} labels in {args.labels} are empty or unknown ({shown}){expected}\n")
        return 2
    pairs = [(label, p) for label, p in zip(labels, predict_lines(args.task, texts, args.tier, args.model),
                                              strict=True) if p is not None]
    if len(pairs) < len(texts):
        err.write(f"{len(texts) - len(pairs)} lines without a text are left out of the scores\n")
    report = classification_report([label for label, _ in pairs], [p for _, p in pairs])
    report.update({"task": args.task, "tier": args.tier, "model": args.model or "shipped"})
    out.write(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    return 0


def cmd_train(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from legation.nlp.language import detect_languages
    from legation.nlp.linear import FeatureSpec
    from legation.nlp.metrics import classification_report
    from legation.nlp.text import model_text
    from legation.nlp.train import NoFeaturesError, fit_linear

    texts, labels = read_labelled(args.data, err, task_labels(args.task), args.encoding)
    if len(set(labels)) < 2 or len(texts) < 10:
        err.write(f"error: need at least 10 labelled texts and 2 labels, got {len(texts)} / {len(set(labels))}\n")
        return 2
    counted = Counter(labels)
    if len(counted) > 20 and sum(n == 1 for n in counted.values()) > len(counted) / 2:
        raise UsageError(f"{len(counted)} different labels for {len(texts)} texts, most of them given once (such as "
                         f"{min(counted)!r}): is each line the text, a tab, then its label? A model learns a few "
                         f"labels from many texts")
    docs = [model_text(t) for t in texts]
    groups = detect_languages(texts) if args.task == "sentiment" and not args.no_language_blocks else None
    test, train = holdout_split(docs, labels, err, args.data, held=args.holdout)
    order = list(range(len(docs)))
    spec = FeatureSpec()

    def fit(idx: Sequence[int]) -> object:
        try:
            return fit_linear([docs[i] for i in idx], [labels[i] for i in idx], spec, c=args.c,
                              min_df=args.min_df, groups=None if groups is None else [groups[i] for i in idx],
                              algorithm=args.algorithm,
                              meta={"task": args.task, "data": Path(args.data).name, "rows": len(idx)})
        except NoFeaturesError:
            hint = "; lower --min-df" if args.min_df > 1 else ""
            raise UsageError(f"no word or feature is frequent enough: none is in at least --min-df {args.min_df}"
                             f" of the {len(idx)} texts trained on{hint}") from None

    result: dict[str, object] = {"task": args.task, "rows": len(docs), "labels": sorted(set(labels))}
    if test:
        from legation.nlp.linear import LinearModel

        kept = sorted({labels[i] for i in train})
        if not kept:
            raise UsageError("every text is a copy of the same one: there is nothing to learn from")
        if len(kept) < 2:
            raise UsageError(f"all {len(train)} texts left to train on after the 10% held out for a score have the"
                             f" label {kept[0]!r}; add texts of the other labels, or use --no-holdout")
        held = fit(train)
        assert isinstance(held, LinearModel)
        probs = held.predict_proba([docs[i] for i in test], None if groups is None else [groups[i] for i in test])
        pred = [held.classes[i] for i in probs.argmax(axis=1)]
        rep = classification_report([labels[i] for i in test], pred)
        scored = {"n": len(test), "accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"]}
        if len(test) < HOLDOUT_FEW:
            scored["note"] = f"only {len(test)} texts held out: this score says little; label more texts to trust it"
        result["holdout"] = scored
    model = fit(order)
    output = Path(args.output) if args.output else _user_model_dir() / f"{args.task}.npz"
    if not args.output and output.exists():
        err.write(f"note: {output} (the model trained before) is replaced; give --output to keep both\n")
    if output.is_dir():
        output = output / f"{args.task}.npz"
    elif output.suffix != ".npz":
        output = output.with_name(output.name + ".npz")  # numpy would add it: the path printed is the real one
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{output.parent}: cannot be made a folder for the model ({exc.strerror or exc})") from None
    try:
        model.save(output)  # type: ignore[attr-defined]
    except OSError as exc:
        raise UsageError(f"{output}: cannot be written ({exc.strerror or exc})") from None
    result["model"] = str(output)
    result["use"] = f"legation nlp predict --task {args.task} --model {output} --input FILE"
    out.write(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return 0


HOLDOUT_FEW = 30  # a held-out score of fewer texts is printed with a note that it says little


def holdout_split(docs: Sequence[str], labels: Sequence[str], err: TextIO, name: str,
                  held: bool = True) -> tuple[list[int], list[int]]:
    """(held out, trained on): about 10 % of the texts, drawn at random (the same each run). Copies of one text
    (a retweet, a message sent many times) fall on the same side, so the held-out score is not of texts the
    model was trained on; ``err`` is told of copies, and of copies labelled differently."""
    by_text: dict[str, list[int]] = {}
    for i, doc in enumerate(docs):
        by_text.setdefault(" ".join(doc.casefold().split()), []).append(i)
    copies = [idx for idx in by_text.values() if len(idx) > 1]
    if copies:
        torn = sum(len({labels[i] for i in idx}) > 1 for idx in copies)
        err.write(f"{name}: {sum(len(idx) - 1 for idx in copies)} texts are copies of others"
                  + (f"; {torn} texts are labelled differently in their copies" if torn else "")
                  + " (each text's copies stay together, on one side of the held-out split)\n")
    if not held:
        return [], list(range(len(docs)))
    sets = list(by_text.values())
    random.Random(13).shuffle(sets)
    want, test, train = max(1, len(docs) // 10), list[int](), list[int]()
    left = Counter(labels)  # texts of each label not held out: every label keeps some to learn from
    for idx in sets:
        group = Counter(labels[i] for i in idx)
        # Held out while the tenth is not reached, unless the group would take it far past its tenth (one text
        # copied fifty times) or take a label's last texts to train on.
        if len(test) < want and len(test) + len(idx) <= want * 3 // 2 + 1 and all(
                left[label] > n for label, n in group.items()):
            test.extend(idx)
            left -= group
        else:
            train.extend(idx)
    return test, train


def _time(fn: Callable[[], object], n: int) -> object:
    """Posts per second of one call of ``fn`` (wall time)."""
    t0 = time.perf_counter()
    fn()
    return round(n / max(time.perf_counter() - t0, 1e-9))


def sample_posts(n: int, seed: int = 7) -> list[str]:
    """A synthetic but realistic mix of posts: the 35-language fixture plus crisis and chatter templates."""
    from legation.nlp.samples import SAMPLE_POSTS

    rng = random.Random(seed)
    posts: list[str] = []
    while len(posts) < n:
        base = rng.choice(SAMPLE_POSTS)
        suffix = rng.choice(["", " #news", " http://t.co/abc", " @user", " 🙏"])
        # Every post differs (identical posts are enriched once, which would flatter the figures).
        posts.append(f"{base}{suffix} {rng.choice(['#', 'ref ', 'n°'])}{rng.randint(1, 10**6)}")
    return posts


def bench_stages(posts: list[str]) -> dict[str, Callable[[], object]]:
    """Each enrichment stage as a call over ``posts`` (every model loaded first, outside any timing)."""
    from legation import nlp
    from legation.nlp.duplicates import signatures

    nlp.enrich(posts[:50], "fast")
    nlp.enrich(posts[:50], "accurate")
    langs = nlp.detect_languages(posts)
    return {
        "language": lambda: nlp.detect_languages(posts),
        "sentiment_fast": lambda: nlp.sentiment(posts, "fast", languages=langs),
        "sentiment_accurate": lambda: nlp.sentiment(posts, "accurate", languages=langs),
        "crisis_fast": lambda: nlp.crisis_categories(posts, "fast"),
        "crisis_accurate": lambda: nlp.crisis_categories(posts, "accurate"),
        "places": lambda: nlp.extract_places(posts),
        "head_counts": lambda: nlp.extract_head_counts(posts),
        "phone_numbers": lambda: nlp.extract_phone_numbers(posts),
        "needs": lambda: nlp.extract_needs(posts),
        "near_duplicate_signatures": lambda: signatures(posts),
        "stories": lambda: nlp.StoryClusterer().add(posts),
    }


def run_bench(
    n: int = 5000, texts: list[str] | None = None, timer: Callable[[Callable[[], object], int], object] = _time
) -> dict[str, object]:
    """Posts per second per stage and for the whole enrichment per tier, on one core, and peak memory
    (``timer(fn, n)`` gives the figure of one call: wall time here; bench/nlp_bench.py adds CPU time)."""
    import resource
    import tracemalloc

    from legation import nlp
    from legation.nlp.classify import clear_caches

    posts = texts[:n] if texts else sample_posts(n)
    n = len(posts)
    stages = bench_stages(posts)
    per_stage = {name: timer(fn, n) for name, fn in stages.items()}
    enrich_rate: dict[str, dict[str, object]] = {}
    for tier in ("fast", "accurate"):
        # Enrichment runs per ingest batch (1,000 posts here). The first pass starts with empty per-word
        # caches; the second pass is the steady state of a long-running ingestion worker.
        clear_caches()
        passes = [
            timer(lambda t=tier: [nlp.enrich(posts[i : i + 1000], t) for i in range(0, n, 1000)], n)  # type: ignore[misc]
            for _ in range(2)
        ]
        enrich_rate[tier] = {"first_pass_cold_caches": passes[0], "second_pass_warm_caches": passes[1]}
    tracemalloc.start()
    nlp.enrich(posts[:1000], "fast")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "posts": n,
        "cores": 1,
        "posts_per_s": {"stages": per_stage, "enrich": enrich_rate},
        "peak_python_alloc_mb_fast_enrich_of_1000_posts": round(peak / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def cmd_bench(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    texts = None
    if args.input:
        texts = [t for t in read_texts(args.input, args.jsonl, err, encoding=args.encoding) if t is not None]
        if not texts:
            raise UsageError(f"{args.input}: no texts to measure")
    out.write(json.dumps(run_bench(args.n, texts), indent=1) + "\n")
    return 0


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(f"{value} is not a positive finite number")
    return number


def _encoding(value: str) -> str:
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an encoding Python knows (utf-8, cp1252, latin-1, "
                                         f"utf-16 ...)") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="legation nlp", description="Offline language models of Legation.")
    sub = p.add_subparsers(dest="command", required=True)

    pr = sub.add_parser("predict", help="one result per input line, in input order")
    pr.add_argument("--task", required=True, choices=TASKS)
    pr.add_argument("--tier", default="fast", choices=("fast", "accurate"))
    pr.add_argument("--input", required=True, help="file with one text per line ('-' for standard input)")
    pr.add_argument("--jsonl", action="store_true", help="input is JSON lines with a 'text' field")
    pr.add_argument("--model", default=None, help="a model file written by 'train' instead of the shipped one")
    pr.add_argument("--encoding", type=_encoding, default=None,
                    help="the files' encoding (default: UTF-8, or UTF-16 with or without a byte-order mark)")
    pr.set_defaults(func=cmd_predict)

    ev = sub.add_parser("evaluate", help="accuracy, macro-F1, per-class scores and confusion matrix")
    ev.add_argument("--task", required=True, choices=[t for t in TASKS if t != "places"])
    ev.add_argument("--tier", default="fast", choices=("fast", "accurate"))
    ev.add_argument("--texts", required=True)
    ev.add_argument("--labels", required=True, help="one gold label per line")
    ev.add_argument("--jsonl", action="store_true")
    ev.add_argument("--model", default=None)
    ev.add_argument("--encoding", type=_encoding, default=None,
                    help="the files' encoding (default: UTF-8, or UTF-16 with or without a byte-order mark)")
    ev.set_defaults(func=cmd_evaluate)

    tr = sub.add_parser("train", help="train a model on your own labelled posts (TSV text<TAB>label or JSONL)")
    tr.add_argument("--task", required=True, choices=TRAINABLE)
    tr.add_argument("--data", required=True)
    tr.add_argument("--output", default=None, help="model file (default: $LEGATION_NLP_MODELS/<task>.npz)")
    tr.add_argument("--c", type=_positive_float, default=1.0, help="inverse regularisation strength (above 0)")
    tr.add_argument("--min-df", type=_positive, default=2,
                    help="keep the words and features found in at least this many texts (at least 1)")
    tr.add_argument("--algorithm", default="logreg", choices=("logreg", "svm"))
    tr.add_argument("--no-language-blocks", action="store_true", help="sentiment: no per-language weights")
    tr.add_argument("--no-holdout", dest="holdout", action="store_false", help="skip the 10%% held-out score")
    tr.add_argument("--encoding", type=_encoding, default=None,
                    help="the files' encoding (default: UTF-8, or UTF-16 with or without a byte-order mark)")
    tr.set_defaults(func=cmd_train)

    be = sub.add_parser("bench", help="posts per second per stage and per tier, peak memory (JSON)")
    be.add_argument("--n", type=_positive, default=5000, help="posts to measure (at least 1)")
    be.add_argument("--input", default=None)
    be.add_argument("--jsonl", action="store_true")
    be.add_argument("--encoding", type=_encoding, default=None,
                    help="the files' encoding (default: UTF-8, or UTF-16 with or without a byte-order mark)")
    be.set_defaults(func=cmd_bench)
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        status: int = args.func(args, out, err)
        out.flush()
    except UsageError as exc:
        err.write(f"error: {exc}\n")
        return 2
    except FileNotFoundError as exc:
        err.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:  # Ctrl-C: stopped as asked, without a traceback
        err.write("interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as a Unix tool does; Python must not complain again
        # when it flushes standard output on the way out.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:  # the output cannot be written: a full disk, a device that takes nothing
        if exc.filename is not None:
            raise
        devnull = os.open(os.devnull, os.O_WRONLY)
        if out is sys.stdout:
            os.dup2(devnull, sys.stdout.fileno())  # nothing more is flushed there on the way out
        err.write(f"error: the output cannot be written ({exc.strerror or exc})\n")
        return 1
    return status
