"""Online story clustering: each new text joins the closest live story or opens a new one.

Texts are bags of words and word pairs weighted by an IDF that the clusterer learns as it goes (:func:`terms_of`:
a word keeps its combining marks, so Hindi or Tamil words stay whole; a run of Chinese, Japanese, Korean,
Thai, Lao, Burmese or Khmer letters, written without spaces, gives its overlapping pairs of letters, as
Lucene's CJK analyser does); a story is
the centroid of its texts, kept to its strongest terms. Candidates come from an inverted index (term ->
stories), so the cost per text does not grow with the number of stories. Stories idle for longer than
``max_idle`` seconds are closed and forgotten.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import regex

from legation.nlp.text import as_texts, model_text

_WORD = re.compile(r"\w{2,}")  # ASCII texts
# Scripts written without spaces: CJK, Thai, Lao, Myanmar, Khmer.
_UNSPACED = "\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
# (the regex module's \w, unlike re's, includes combining marks: "दिल्ली" is one word, not three letters)
_TOKEN = regex.compile(f"(?P<run>[{_UNSPACED}]+)|(?:(?![{_UNSPACED}])\\w){{2,}}")
_MARKS = regex.compile(r"\p{M}+")
_MARK_OR_UNSPACED = regex.compile(f"[\\p{{M}}{_UNSPACED}]")
# Words that carry no story on their own in the languages we see most (kept short on purpose: IDF does the rest).
_STOP = frozenset(
    [
        "the", "and", "for", "you", "are", "was", "this", "that", "with", "have", "from", "not", "but",
        "all", "they", "his", "her", "she", "will", "what", "about", "just", "http", "user", "les", "des",
        "une", "est", "que", "pour", "dans", "pas", "sur", "par", "qui", "con", "los", "las", "por", "una",
        "del", "para", "que", "como", "pero", "der", "die", "das", "und", "ist", "nicht", "mit", "den",
        "ein", "eine", "auf", "für", "sich", "dem", "che", "non", "per", "una", "del", "della", "sono",
        "com", "não", "uma", "dos", "das", "para", "que", "mais", "على", "في", "من", "إلى", "عن", "هذا",
        "هذه", "التي", "الذي", "مع",
    ]
)
_MAX_CENTROID_TERMS = 40
_QUERY_TERMS = 8
_POSTINGS_PER_TERM = 64


def terms_of(doc: str) -> list[str]:
    """The terms of a normalised text, in order: words of two characters or more, with their combining marks;
    a run of letters of a script written without spaces gives its overlapping pairs ("北京地震" -> 北京, 京地,
    地震), without the marks of Thai, Lao, Burmese and Khmer."""
    if doc.isascii() or not _MARK_OR_UNSPACED.search(doc):
        return _WORD.findall(doc)  # the same words, faster
    out: list[str] = []
    for m in _TOKEN.finditer(doc):
        run = m.group("run")
        if run is None:
            out.append(m.group())
            continue
        letters = _MARKS.sub("", run)
        out.extend(letters[i : i + 2] for i in range(len(letters) - 1))
    return out


@dataclass
class Story:
    """A cluster of related texts."""

    id: int
    size: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    centroid: dict[str, float] = field(default_factory=dict)
    norm: float = 0.0

    def top_terms(self, n: int = 5) -> list[str]:
        return [t for t, _ in sorted(self.centroid.items(), key=lambda kv: -kv[1])[:n]]


class StoryClusterer:
    """Incremental clustering of a stream of texts into stories."""

    def __init__(self, threshold: float = 0.25, max_idle: float = 6 * 3600.0, min_terms: int = 2) -> None:
        self.threshold = threshold
        self.max_idle = max_idle
        self.min_terms = min_terms
        self.stories: dict[int, Story] = {}
        self._postings: dict[str, list[int]] = {}
        self._df: Counter[str] = Counter()
        self._docs = 0
        self._next_id = 1

    def _vector(self, text: str) -> dict[str, float]:
        words = [w for w in terms_of(model_text(text)) if w not in _STOP]
        terms = Counter(words)
        pairs = Counter(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
        # IDF from the texts seen before this one, smoothed so that a term shared with one earlier text
        # (the very sign of a story) keeps most of its weight.
        n = self._docs
        df = self._df
        vec = {t: (1.0 + math.log(c)) * (math.log((n + 1) / (df[t] + 1)) + 1.0) for t, c in terms.items()}
        for t, c in pairs.items():
            vec[t] = 0.5 * (1.0 + math.log(c)) * (math.log((n + 1) / (df[t] + 1)) + 1.0)
        self._docs += 1
        df.update(vec.keys())
        return vec

    def add(self, texts: Iterable[object], timestamps: Sequence[float] | None = None) -> list[int]:
        """Story id of every text (new stories are opened as needed); 0 for texts without words."""
        items = as_texts(texts)
        out: list[int] = []
        for i, text in enumerate(items):
            now = float(timestamps[i]) if timestamps is not None else 0.0
            out.append(self._add_one(text, now))
        return out

    def _add_one(self, text: str, now: float) -> int:
        vec = self._vector(text)
        if len(vec) < self.min_terms:
            return 0
        norm = math.sqrt(sum(w * w for w in vec.values()))
        # Candidates: the recent stories of the text's most distinctive terms (bounded work per text).
        candidates: set[int] = set()
        for term, _ in sorted(vec.items(), key=lambda kv: -kv[1])[:_QUERY_TERMS]:
            candidates.update(self._postings.get(term, ()))
        best_id, best = 0, 0.0
        for sid in candidates:
            story = self.stories.get(sid)
            if story is None or not story.norm:
                continue
            if self.max_idle and now and story.last_seen and now - story.last_seen > self.max_idle:
                continue
            centroid = story.centroid
            dot = sum(w * centroid.get(t, 0.0) for t, w in vec.items())
            cos = dot / (norm * story.norm)
            if cos > best:
                best_id, best = sid, cos
        if best_id and best >= self.threshold:
            story = self.stories[best_id]
        else:
            story = Story(id=self._next_id, first_seen=now)
            self._next_id += 1
            self.stories[story.id] = story
        self._merge(story, vec, norm, now)
        return story.id

    def _merge(self, story: Story, vec: dict[str, float], norm: float, now: float) -> None:
        # Running mean of unit vectors, truncated to the strongest terms.
        size = story.size
        merged = {t: w * size / (size + 1) for t, w in story.centroid.items()}
        for t, w in vec.items():
            merged[t] = merged.get(t, 0.0) + (w / norm) / (size + 1)
        kept = dict(sorted(merged.items(), key=lambda kv: -kv[1])[:_MAX_CENTROID_TERMS])
        for t in story.centroid.keys() - kept.keys():
            members = self._postings.get(t)
            if members and story.id in members:
                members.remove(story.id)
        for t in kept.keys() - story.centroid.keys():
            members = self._postings.setdefault(t, [])
            members.append(story.id)
            if len(members) > _POSTINGS_PER_TERM:  # a very common term points to its latest stories only
                del members[0]
        story.centroid = kept
        story.norm = math.sqrt(sum(w * w for w in kept.values()))
        story.size = size + 1
        story.last_seen = now

    def expire(self, now: float) -> list[int]:
        """Close the stories idle for longer than ``max_idle``; returns their ids."""
        gone = [sid for sid, s in self.stories.items() if now - s.last_seen > self.max_idle]
        for sid in gone:
            for t in self.stories.pop(sid).centroid:
                members = self._postings.get(t)
                if members and sid in members:
                    members.remove(sid)
        return gone


def cluster_stories(texts: Iterable[object], threshold: float = 0.25) -> list[int]:
    """Story id of every text of one batch, clustered from scratch."""
    return StoryClusterer(threshold=threshold).add(texts)
