"""Language identification: ISO 639-1 code per text.

A cascade, chosen after measuring the PyPI detectors side by side (see ``models/language.md``):
1. fastText's ``lid.176.ftz`` (176 languages, 0.9 MB, C++ via ``fasttext-predict``) on the text with URLs,
   mentions, hashtags' ``#`` and digits removed;
2. a small linear model of our own that recognises romanised (Latin-script) Hindi/Hinglish, which every
   packaged detector labels as English or something else;
3. when fastText is unsure (probability below 0.7, about one real post in six), Lingua (``lingua-language-detector``,
   low-accuracy mode) chooses among fastText's three best languages and the languages fastText confuses them
   with (Malay/Indonesian, Ukrainian/Russian, Portuguese/Spanish ...).
Texts with no letters (empty, emoji-only, binary garbage) get ``"und"`` (undetermined).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path

from legation.nlp.linear import LinearModel
from legation.nlp.text import as_texts, binary_share, clean, model_text

MODELS = Path(__file__).resolve().parent / "models"
UNDETERMINED = "und"

# fastText labels without an ISO 639-1 code, mapped to the macro-language a reader expects.
_FASTTEXT_TO_639_1 = {
    "arz": "ar", "pnb": "pa", "azb": "az", "ckb": "ku", "wuu": "zh", "yue": "zh", "nds": "de", "als": "de",
    "bar": "de", "lmo": "it", "nap": "it", "scn": "it", "vec": "it", "pam": "tl", "ceb": "tl", "war": "tl",
    "mzn": "fa", "glk": "fa", "sh": "hr", "nn": "no", "nb": "no", "mrj": "ru", "mhr": "ru", "sah": "ru",
    "xal": "ru", "tyv": "ru", "krc": "ru", "bxr": "ru", "bpy": "bn", "new": "ne", "bh": "hi", "mai": "hi",
    "gom": "kn", "diq": "tr", "frr": "de", "pfl": "de", "vls": "nl", "zea": "nl", "li": "nl", "rue": "uk",
}
_STRIP = re.compile(r"(?:https?://|www\.)\S+|@\w+|[#_\d]+", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_UPPER = re.compile(r"[A-Z\u00c0-\u00de]")
# Romanised Hindi function words that are not words of the Latin-script languages fastText confuses it with.
_HINDI_STRONG = frozenset(
    [
        "hai", "hain", "nahi", "nahin", "nhi", "kya", "kyun", "kyu", "mein", "mai", "bhi", "aur", "toh",
        "yeh", "ye", "woh", "wo", "tha", "thi", "raha", "rahi", "rahe", "kuch", "bahut", "bohot", "accha",
        "acha", "achha", "hum", "tum", "aap", "mujhe", "tujhe", "humko", "kaise", "kaisa", "kab", "kahan",
        "mera", "meri", "tera", "teri", "apna", "apni", "bhai", "yaar", "sirf", "abhi", "kabhi", "sabse",
        "hoga", "hogi", "gaya", "gayi", "diya", "kiya", "karo", "karna", "karte", "liye", "wala", "wale",
        "wali", "matlab", "lekin", "phir", "dekho", "dekh", "pata",
    ]
)
_HINDI_WEAK = frozenset(["ka", "ki", "ke", "ko", "se", "pe", "ho", "na", "ji", "sab", "koi"])
_WORD = re.compile(r"\w+")

# Hinglish tweets are often pure English; 0.85 keeps English accuracy at ~0.96 on UMSAB val.
_HINGLISH_THRESHOLD = 0.85
# Below this fastText probability, Lingua decides among the candidate languages.
_CASCADE_THRESHOLD = 0.7
_CASCADE_CANDIDATES = 3
# Pairs fastText mixes up on short texts: each brings the other in as a candidate.
_CONFUSABLE = {
    "id": ("ms",), "ms": ("id",), "ru": ("uk", "be"), "uk": ("ru",), "be": ("ru", "uk"), "es": ("pt", "gl"),
    "pt": ("es", "gl"), "gl": ("es", "pt"), "hr": ("sr", "bs"), "sr": ("hr", "bs"), "bs": ("hr", "sr"),
    "da": ("no",), "no": ("da",), "cs": ("sk",), "sk": ("cs",), "it": ("es",), "ca": ("es",),
}
_lock = threading.Lock()
_detectors: dict[frozenset[str], object | None] = {}
_fasttext: object | None = None
_hinglish: LinearModel | None = None


def _load_fasttext() -> object:
    global _fasttext
    with _lock:
        if _fasttext is None:
            import fasttext

            _fasttext = fasttext.load_model(str(MODELS / "lid.176.ftz"))
    return _fasttext


def _load_hinglish() -> LinearModel | None:
    global _hinglish
    with _lock:
        path = MODELS / "hinglish.npz"
        if _hinglish is None and path.exists():
            _hinglish = LinearModel.load(path)
    return _hinglish


def _lingua_detector(candidates: frozenset[str]) -> object | None:
    """A Lingua detector restricted to ``candidates`` (ISO 639-1 codes), built once per set; None if fewer
    than two of them are Lingua languages or Lingua is missing."""
    with _lock:
        if candidates in _detectors:
            return _detectors[candidates]
    try:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    except ImportError:  # pragma: no cover - a declared dependency; fastText's answer stands without it
        return None
    langs = [Language.from_iso_code_639_1(iso) for iso in
             (getattr(IsoCode639_1, code.upper(), None) for code in sorted(candidates)) if iso is not None]
    detector = (
        LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build() if len(langs) > 1
        else None
    )
    with _lock:
        if len(_detectors) > 512:
            _detectors.clear()
        _detectors[candidates] = detector
    return detector


def _lingua_choice(text: str, candidates: frozenset[str]) -> str | None:
    """Lingua's best language among ``candidates`` for one prepared text, or None."""
    detector = _lingua_detector(candidates)
    if detector is None:
        return None
    best = detector.detect_language_of(text)  # type: ignore[attr-defined]
    return None if best is None else str(best.iso_code_639_1.name).lower()


def _prepare(text: str) -> str:
    text = clean(text, 1000)
    text = " ".join(_STRIP.sub(" ", text).split())
    # fastText reads ALL-CAPS Italian or Portuguese as English: lower-case shouted texts.
    if text.isupper() and len(_UPPER.findall(text)) > 0.5 * len(_LETTER.findall(text)):
        text = text.lower()
    return text


def detect_languages(texts: Iterable[object]) -> list[str]:
    """ISO 639-1 code for every text (``"und"`` when there is nothing to judge)."""
    return [code for code, _ in detect_languages_scored(texts)]


def detect_languages_scored(texts: Iterable[object], cascade: bool = True) -> list[tuple[str, float]]:
    """(ISO 639-1 code, confidence in 0..1) for every text; ``cascade=False`` skips the Lingua step (the fast
    enrichment tier does, for speed)."""
    items = as_texts(texts)
    prepared = [_prepare(t) for t in items]
    judged = [
        i for i, (raw, p) in enumerate(zip(items, prepared, strict=True))
        if _LETTER.search(p) and binary_share(raw[:2000]) < 0.3
    ]
    out: list[tuple[str, float]] = [(UNDETERMINED, 0.0)] * len(items)
    if not judged:
        return out
    model = _load_fasttext()
    # fasttext-predict's multilinePredict returns labels only; predict() per text returns (prob, label).
    predict = model.f.predict  # type: ignore[attr-defined]
    for i in judged:
        res = predict(prepared[i], 1, 0.0, "strict")
        if not res:
            continue
        prob, label = res[0]
        code = label.replace("__label__", "")
        out[i] = (_FASTTEXT_TO_639_1.get(code, code), min(1.0, float(prob)))
    for i in judged if cascade else ():
        code, prob = out[i]
        if code == UNDETERMINED or prob >= _CASCADE_THRESHOLD:
            continue
        top = predict(prepared[i], _CASCADE_CANDIDATES, 0.0, "strict")
        candidates = {_FASTTEXT_TO_639_1.get(c, c) for c in (lab[9:] for _, lab in top)}
        candidates.update(_CONFUSABLE.get(code, ()))
        choice = _lingua_choice(prepared[i], frozenset(candidates))
        if choice is not None and choice != code:
            out[i] = (choice, prob)
    hinglish = _load_hinglish()
    if hinglish is not None:
        cand: list[tuple[int, int, int]] = []
        for i in judged:
            code, prob = out[i]
            if code not in ("en", "hi") and prob > 0.9:
                continue
            words = _WORD.findall(prepared[i].lower())
            strong = sum(w in _HINDI_STRONG for w in words)
            if not strong:
                continue
            if not prepared[i].isascii() and len(_LATIN.findall(prepared[i])) <= 0.5 * len(prepared[i]):
                continue
            cand.append((i, strong, sum(w in _HINDI_WEAK for w in words)))
        if cand:
            probs = hinglish.predict_proba([model_text(items[i]) for i, _, _ in cand])
            hi_col = hinglish.classes.index("hi")
            for (i, strong, weak), p in zip(cand, probs[:, hi_col], strict=True):
                # Marker words decide clear cases; the model decides the ones with a single marker.
                if strong >= 2 or strong + weak >= 3 or p > _HINGLISH_THRESHOLD:
                    out[i] = ("hi", max(float(p), 0.5))
    return out
