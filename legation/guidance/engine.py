"""The guidance check: a pure function of a post, the rules that apply to it, the time and the context.

No Django, no database: ``check(post, rules, now, context)`` returns every finding, each naming the rule that
raised it, where the rule is defined, how severe it is (``block``, ``needs_clearance`` by whom, ``warn``), what in
the post matched and why. ``verdict(findings)`` sums them up for publishing.

The words for a person (why, where) are kept as :class:`Message`: English texts marked with ``gettext_noop`` and
their values apart, which ``legation.guidance.explain`` translates when they are shown.
"""

from __future__ import annotations

import functools
import unicodedata
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import phonenumbers
import regex

from legation.guidance.kinds import (
    SEVERITY_ORDER,
    ClassificationConfig,
    EmbargoConfig,
    LanguagesConfig,
    LinkDomainsConfig,
    Message,
    PersonalDataConfig,
    QuietHoursConfig,
    RuleConfig,
    RuleKind,
    Severity,
    TermsConfig,
    gettext_noop,
    parse_config,
)
from legation.guidance.links import find_links, host_within, looks_like, normalise_host
from legation.guidance.normalize import Folded, TermMatcher, fold, is_invisible

__all__ = [
    "ActiveCrisis", "CheckContext", "ClearanceNeed", "DraftText", "Finding", "Message", "PostDraft", "RuleSpec",
    "Severity", "TargetAccount", "Verdict", "check", "verdict",
]

# A user's pattern must not hang a check: each regular-expression search gets this long, in seconds.
PATTERN_TIMEOUT = 0.5


# What goes in


@dataclass(frozen=True)
class DraftText:
    """The source text or one language variant of a post."""

    body: str
    language: str = ""  # BCP 47 code, e.g. "fr", "ar", "zh-Hans"
    account_ids: tuple[int, ...] | None = None  # the accounts it goes to; None = every account of the post


@dataclass(frozen=True)
class TargetAccount:
    """An official account the post goes to."""

    platform: str
    handle: str
    account_id: int | None = None
    allowed_languages: tuple[str, ...] = ()  # empty = any language

    @property
    def label(self) -> str:
        return f"{self.platform}:{self.handle}"


@dataclass(frozen=True)
class PostDraft:
    source: DraftText
    variants: tuple[DraftText, ...] = ()
    links: tuple[str, ...] = ()  # link fields of the composer; links inside the texts are found as well
    accounts: tuple[TargetAccount, ...] = ()
    scheduled_at: datetime | None = None  # aware; None = publish now
    time_zone: str = "UTC"  # the mission's

    @property
    def texts(self) -> tuple[DraftText, ...]:
        return (self.source, *self.variants)


@dataclass(frozen=True)
class ActiveCrisis:
    """A declared crisis: posts naming its terms or places need the crisis cell's clearance."""

    id: int
    name: str
    terms: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    cell_unit_id: int | None = None
    cell_unit_name: str = ""
    clearance_role: str = "approver"


@dataclass(frozen=True)
class CheckContext:
    country: str = ""  # ISO 3166 region of the mission: phone numbers without +country code are read there
    crises: tuple[ActiveCrisis, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    """One active rule, as the engine needs it (``legation.guidance.services.rules_for`` makes these)."""

    id: int | None
    name: str
    kind: RuleKind
    config: RuleConfig
    severity: Severity
    unit_id: int | None = None
    unit_name: str = ""
    clearance_role: str = ""  # with severity needs_clearance: the role that clears, at clearance_unit_id
    clearance_unit_id: int | None = None
    clearance_unit_name: str = ""

    @classmethod
    def build(cls, *, kind: RuleKind | str, config: dict[str, Any], name: str = "", severity: Severity | str = "",
              id: int | None = None, unit_id: int | None = None, unit_name: str = "", clearance_role: str = "",
              clearance_unit_id: int | None = None, clearance_unit_name: str = "") -> RuleSpec:
        """Validate the config for its kind (pydantic ValidationError otherwise) and make a spec."""
        from legation.guidance.kinds import DEFAULT_SEVERITY

        kind = RuleKind(kind)
        return cls(id=id, name=name or kind.value, kind=kind, config=parse_config(kind, config),
                   severity=Severity(severity) if severity else DEFAULT_SEVERITY[kind], unit_id=unit_id,
                   unit_name=unit_name, clearance_role=clearance_role,
                   clearance_unit_id=clearance_unit_id if clearance_unit_id is not None else unit_id,
                   clearance_unit_name=clearance_unit_name or unit_name)


# What comes out


def _say(text: str, /, **values: str | Message) -> Message:
    return Message(text, tuple(values.items()))


# The roles as they read inside a sentence ("needs clearance by an approver"); legation.network.models.RoleName
# names the roles themselves.
ROLE_WORDS = {
    "viewer": gettext_noop("viewer"), "editor": gettext_noop("editor"), "publisher": gettext_noop("publisher"),
    "approver": gettext_noop("approver"), "admin": gettext_noop("admin"),
}


@dataclass(frozen=True)
class Finding:
    rule_id: int | None  # None for a declared crisis (see crisis_id)
    rule_name: str
    rule_kind: str  # a RuleKind value, or "crisis"
    unit_id: int | None  # where the rule is defined
    unit_name: str
    severity: Severity
    explanation: str  # why, for a human
    location: str  # "source (en)", "variant 2 (fr)", "link", "schedule", "account mastodon:@x"
    text_index: int | None = None  # 0 = source, 1.. = variants; None when not about a text
    start: int | None = None  # span in that text
    end: int | None = None
    matched: str = ""
    clearance_role: str | None = None
    clearance_unit_id: int | None = None
    clearance_unit_name: str = ""
    crisis_id: int | None = None
    because: tuple[Message, ...] = field(default=(), compare=False)  # the explanation, to translate when shown
    place: Message | None = field(default=None, compare=False)  # the location, likewise

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        del data["because"], data["place"]
        return data


@dataclass(frozen=True)
class ClearanceNeed:
    role: str
    unit_id: int | None
    unit_name: str = ""


@dataclass(frozen=True)
class Verdict:
    blocked: bool
    clearances: tuple[ClearanceNeed, ...]  # each distinct (role, unit) that must clear the post
    warnings: int

    @property
    def clear(self) -> bool:
        """Publishable without anyone else: nothing blocks and no clearance is needed."""
        return not self.blocked and not self.clearances


def verdict(findings: Sequence[Finding]) -> Verdict:
    needs: dict[tuple[str, int | None], ClearanceNeed] = {}
    for f in findings:
        if f.severity == Severity.NEEDS_CLEARANCE and f.clearance_role:
            key = (f.clearance_role, f.clearance_unit_id)
            needs.setdefault(key, ClearanceNeed(f.clearance_role, f.clearance_unit_id, f.clearance_unit_name))
    return Verdict(
        blocked=any(f.severity == Severity.BLOCK for f in findings),
        clearances=tuple(needs.values()),
        warnings=sum(1 for f in findings if f.severity == Severity.WARN),
    )


# The check


def check(post: PostDraft, rules: Sequence[RuleSpec], now: datetime,
          context: CheckContext | None = None) -> list[Finding]:
    """Every finding of these rules (and of the declared crises) on this post, most severe first."""
    context = context or CheckContext()
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(_CHECKERS[rule.kind](rule, post, now, context))
    findings.extend(_crisis_findings(post, context))
    unique = list(dict.fromkeys(findings))
    unique.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.text_index if f.text_index is not None else -1,
                               f.start or 0, f.rule_name))
    return unique


def _finding(rule: RuleSpec, because: Sequence[Message], place: Message, **extra: Any) -> Finding:
    needs = rule.severity == Severity.NEEDS_CLEARANCE
    return Finding(
        rule_id=rule.id, rule_name=rule.name, rule_kind=rule.kind.value, unit_id=rule.unit_id,
        unit_name=rule.unit_name, severity=rule.severity, explanation=_english(because),
        location=place.render(), because=tuple(because), place=place,
        clearance_role=(rule.clearance_role or "approver") if needs else None,
        clearance_unit_id=rule.clearance_unit_id if needs else None,
        clearance_unit_name=rule.clearance_unit_name if needs else "",
        **extra,
    )


def _english(because: Sequence[Message]) -> str:
    return "".join(message.render() for message in because)


def _where(index: int, text: DraftText, *, capital: bool = False) -> Message:
    """Which text of the post: "source (en)", "variant 2 (fr)"; capitalised to open a sentence."""
    return _text_name(index, text.language, capital)


@functools.lru_cache(maxsize=256)
def _text_name(index: int, language: str, capital: bool) -> Message:
    values: dict[str, str | Message] = {}
    if index == 0:
        with_language, alone = (gettext_noop("Source (%(language)s)"), gettext_noop("Source")) if capital else (
            gettext_noop("source (%(language)s)"), gettext_noop("source"))
    else:
        values["number"] = str(index)
        with_language, alone = (
            gettext_noop("Variant %(number)s (%(language)s)"), gettext_noop("Variant %(number)s")) if capital else (
            gettext_noop("variant %(number)s (%(language)s)"), gettext_noop("variant %(number)s"))
    if language:
        return _say(with_language, **values, language=language)
    return _say(alone, **values)


def _role(role: str) -> Message:
    return Message(ROLE_WORDS.get(role, role))


def _who(rule: RuleSpec) -> tuple[Message, ...]:
    if rule.severity != Severity.NEEDS_CLEARANCE:
        return ()
    unit: str | Message = rule.clearance_unit_name or rule.unit_name or Message(gettext_noop("the defining unit"))
    return (_say(gettext_noop("; needs clearance by an %(role)s at %(unit)s"),
                 role=_role(rule.clearance_role or "approver"), unit=unit),)


_DISGUISED = Message(gettext_noop(" (disguised: spaced letters, look-alike or invisible characters)"))


def _term_findings(rule: RuleSpec, post: PostDraft, matcher: TermMatcher, found: str) -> Iterator[Finding]:
    """``found`` says what a match is, e.g. "Blocked term “%(term)s” found as “%(matched)s”"."""
    for index, text in enumerate(post.texts):
        for m in matcher.find(text.body):
            how = (_DISGUISED,) if m.evasive else ()
            yield _finding(rule, (_say(found, term=m.term, matched=m.matched), *how, *_who(rule)),
                           _where(index, text), text_index=index, start=m.start, end=m.end, matched=m.matched)


def _matcher(config: TermsConfig | ClassificationConfig | EmbargoConfig, whole_words: bool = True) -> TermMatcher:
    return _compiled_terms(tuple(config.terms), whole_words)


@functools.lru_cache(maxsize=1024)
def _compiled_terms(terms: tuple[str, ...], whole_words: bool) -> TermMatcher:
    # Rules are checked on every keystroke of the composer: fold each rule's terms once.
    return TermMatcher(terms, whole_words=whole_words)


@functools.lru_cache(maxsize=1024)
def _compiled_pattern(pattern: str, flags: int = 0) -> regex.Pattern[str]:
    return regex.compile(pattern, flags)


def _blocked_terms(rule: RuleSpec, post: PostDraft, now: datetime, context: CheckContext) -> Iterator[Finding]:
    config = rule.config
    assert isinstance(config, TermsConfig)
    yield from _term_findings(rule, post, _matcher(config, config.whole_words),
                              gettext_noop("Blocked term “%(term)s” found as “%(matched)s”"))


def _sensitive_topic(rule: RuleSpec, post: PostDraft, now: datetime, context: CheckContext) -> Iterator[Finding]:
    config = rule.config
    assert isinstance(config, TermsConfig)
    yield from _term_findings(rule, post, _matcher(config, config.whole_words),
                              gettext_noop("Sensitive topic “%(term)s” found as “%(matched)s”"))


def _clean(text: str) -> Folded:
    """The text with invisible characters removed and compatibility forms folded (NFKC), positions kept."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        if is_invisible(ch):
            continue
        for out in unicodedata.normalize("NFKC", ch):
            chars.append(out)
            origin.append(index)
    return Folded("".join(chars), tuple(origin))


def _span(cleaned: Folded, start: int, end: int) -> tuple[int, int]:
    if end <= start or not cleaned.origin:
        return start, end
    return cleaned.origin[start], cleaned.origin[end - 1] + 1


_EMAIL = regex.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMAIL_SPELLED = regex.compile(
    r"(?i)[\w.+-]+\s*[\[(<{]\s*(?:at|@|arobase)\s*[\])>}]\s*[\w-]+(?:\s*[\[(<{]\s*(?:dot|point|\.)\s*[\])>}]\s*[\w-]+)+"
)


def _e164(number: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, region or None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _personal_data(rule: RuleSpec, post: PostDraft, now: datetime, context: CheckContext) -> Iterator[Finding]:
    config = rule.config
    assert isinstance(config, PersonalDataConfig)
    region = context.country.upper() if len(context.country) == 2 else ""
    allowed_phones = {p for p in (_e164(a, region) for a in config.allow if "@" not in a) if p}
    allowed_emails = {a.strip().lower() for a in config.allow if "@" in a}

    def email_allowed(address: str) -> bool:
        address = address.lower()
        domain = address.rpartition("@")[2]
        return address in allowed_emails or any(
            a.startswith("@") and host_within(domain, a[1:]) for a in allowed_emails
        )

    for index, text in enumerate(post.texts):
        where = _where(index, text)
        cleaned = _clean(text.body)
        link_spans = [(link.start, link.end) for link in find_links(cleaned.chars)]
        taken: list[tuple[int, int]] = []
        if config.phones:
            for match in phonenumbers.PhoneNumberMatcher(cleaned.chars, region or None):
                e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
                taken.append((match.start, match.end))
                if e164 in allowed_phones:
                    continue
                start, end = _span(cleaned, match.start, match.end)
                yield _finding(rule, (_say(gettext_noop("Phone number %(number)s"), number=e164), *_who(rule)),
                               where, text_index=index, start=start, end=end, matched=text.body[start:end])
        if config.emails:
            for pattern in (_EMAIL, _EMAIL_SPELLED):
                for m in pattern.finditer(cleaned.chars, timeout=PATTERN_TIMEOUT):
                    if any(a <= m.start() < b for a, b in taken):
                        continue
                    taken.append((m.start(), m.end()))
                    address = regex.sub(r"\s+", "", m.group(0))
                    if email_allowed(address):
                        continue
                    start, end = _span(cleaned, m.start(), m.end())
                    yield _finding(rule, (_say(gettext_noop("E-mail address %(address)s"), address=address),
                                          *_who(rule)),
                                   where, text_index=index, start=start, end=end, matched=text.body[start:end])
        if config.passports:
            for pattern_text in config.passport_patterns:
                pattern = _compiled_pattern(pattern_text)
                for m in pattern.finditer(cleaned.chars, timeout=PATTERN_TIMEOUT):
                    group = 1 if pattern.groups else 0
                    if m.start(group) < 0:
                        continue
                    s, e = m.start(group), m.end(group)
                    if any(a <= s < b or a < e <= b for a, b in taken + link_spans):
                        continue
                    taken.append((s, e))
                    start, end = _span(cleaned, s, e)
                    yield _finding(rule, (_say(gettext_noop("Passport-like number %(number)s"),
                                               number=m.group(group)), *_who(rule)),
                                   where, text_index=index, start=start, end=end, matched=text.body[start:end])


def _classification(rule: RuleSpec, post: PostDraft, now: datetime, context: CheckContext) -> Iterator[Finding]:
    config = rule.config
    assert isinstance(config, ClassificationConfig)
    if config.terms:
        yield from _term_findings(rule, post, _matcher(config),
                                  gettext_noop("Classification marking “%(term)s” found as “%(matched)s”"))
    patterns = [_compiled_pattern(p, regex.IGNORECASE | regex.UNICODE) for p in config.patterns]
    for index, text in enumerate(post.texts):
        # Patterns are tried on the text as written (invisibles removed) and on its folded form (case,
        # diacritics, homoglyphs, Arabic letter variants), so that "RЕSTRICTED" with a Cyrillic Е is caught too.
        views = (_clean(text.body), fold(text.body))
        seen: set[tuple[int, int]] = set()
        for pattern in patterns:
            for view in views:
                for m in pattern.finditer(view.chars, timeout=PATTERN_TIMEOUT):
                    if m.end() <= m.start():
                        continue
                    start, end = _span(view, m.start(), m.end())
                    if any(a < end and start < b for a, b in seen):
                        continue
                    seen.add((start, end))
                    yield _finding(rule, (_say(gettext_noop("Classification marking matching /%(pattern)s/"),
                                               pattern=pattern.pattern), *_who(rule)),
                                   _where(index, text), text_index=index, start=start, end=end,
                                   matched=text.body[start:end])


def _link_domains(rule: RuleSpec, post: PostDraft, now: datetime, context: CheckContext) -> Iterator[Finding]:
    config = rule.config
    assert isinstance(config, LinkDomainsConfig)
    candidates: list[tuple[str, Message, int | None, int | None, int | None]] = [
        (url, Message(gettext_noop("link")), None, None, None) for url in post.links
    ]
    for index, text in enumerate(post.texts):
        cleaned = _clean(text.body)
        for link in find_links(cleaned.chars):
            start, end = _span(cleaned, link.start, link.end)
            candidates.append((link.url, _where(index, text), index, start, end))
    for url, where, text_index, span_start, span_end in candidates:
        host = normalise_host(url)
        if host is None:
            continue
        shown = host.unicode if host.unicode == host.ascii else f"{host.unicode} ({host.ascii})"
        extra = {"text_index": text_index, "start": span_start, "end": span_end, "matched": url}
        if config.mode == "refuse":
            refused = next((d for d in config.domains if host_within(host.ascii, d)), None)
            if refused:
                yield _finding(rule, (_say(gettext_noop("Link to %(host)s, on the refused domain %(domain)s"),
                                           host=shown, domain=refused), *_who(rule)), where, **extra)
                continue
            imitated = next((d for d in config.domains if looks_like(host, d)), None)
            if imitated:
                yield _finding(rule, (_say(gettext_noop("Link to %(host)s, which imitates the refused domain "
                                                        "%(domain)s with look-alike characters"),
                                           host=shown, domain=imitated), *_who(rule)), where, **extra)
        elif not any(host_within(host.ascii, d) for d in config.domains):
            imitated = next((d for d in config.domains if looks_like(host, d)), None)
            why = _say(gettext_noop("Link to %(host)s, which is not on the allowed domains and imitates "
                                    "%(domain)s with look-alike characters"), host=shown, domain=imitated) if (
                imitated) else _say(gettext_noop("Link to %(host)s, which is not on the allowed domains"), host=shown)
            yield _finding(rule, (why, *_who(rule)), where, **extra)


_SCRIPT_OF_LANGUAGE = {
    **dict.fromkeys(["ar", "fa", "ur", "ps", "ku", "sd", "ug"], "ARABIC"),
    **dict.fromkeys(["ru", "uk", "bg", "be", "kk", "ky", "mk", "mn", "tg"], "CYRILLIC"),
    **dict.fromkeys(["zh", "ja"], "CJK"),
    "ko": "HANGUL", "el": "GREEK", "he": "HEBREW", "hi": "DEVANAGARI", "mr": "DEVANAGARI", "ne": "DEVANAGARI",
    "th": "THAI", "hy": "ARMENIAN", "ka": "GEORGIAN", "am": "ETHIOPIC", "bn": "BENGALI", "ta": "TAMIL",
    **dict.fromkeys(["en", "fr", "de", "es", "it", "pt", "nl", "id", "ms", "tr", "pl", "sw", "vi", "ro", "sv",
                     "da", "no", "fi", "cs", "hu", "tl"], "LATIN"),
}


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    word = name.split(" ", 1)[0]
    if word in ("CJK", "HIRAGANA", "KATAKANA", "IDEOGRAPHIC"):
        return "CJK"
    if word == "HANGUL":
        return "HANGUL"
    return word


def _primary(code: str) -> str:
    return code.split("-", 1)[0].split("_", 1)[0].lower()


def _languages(rule: RuleSpec, post: PostDraft, now: datetime, context: CheckContext) -> Iterator[Finding]:
    config = rule.config
    assert isinstance(config, LanguagesConfig)
    for account in post.accounts:
        constraints = [set(map(_primary, langs)) for langs in (
            account.allowed_languages, config.languages,
            config.accounts.get(str(account.account_id), ()), config.accounts.get(account.label, ()),
        ) if langs]
        if not constraints:
            continue
        allowed = set.intersection(*constraints)
        where = _say(gettext_noop("account %(account)s"), account=account.label)
        explicit = [(i, t) for i, t in enumerate(post.texts)
                    if t.account_ids is not None and account.account_id in t.account_ids]
        for index, text in explicit:
            if _primary(text.language) not in allowed:
                languages = ", ".join(sorted(allowed)) or Message(gettext_noop("no language"))
                yield _finding(rule, (_say(gettext_noop("%(text)s goes to %(account)s, which publishes only in "
                                                        "%(languages)s"), text=_where(index, text, capital=True),
                                           account=account.label, languages=languages), *_who(rule)),
                               where, text_index=index)
        reaching = explicit or [(i, t) for i, t in enumerate(post.texts) if t.account_ids is None]
        if reaching and not any(_primary(t.language) in allowed for _i, t in reaching):
            languages = ", ".join(sorted(allowed)) or Message(gettext_noop("none"))
            yield _finding(rule, (_say(gettext_noop("No text in a language %(account)s publishes in (%(languages)s)"),
                                       account=account.label, languages=languages), *_who(rule)), where)
    if not config.check_script:
        return
    for index, text in enumerate(post.texts):
        expected = _SCRIPT_OF_LANGUAGE.get(_primary(text.language))
        letters = [_script(ch) for ch in text.body if ch.isalpha()]
        if expected is None or len(letters) < 10:
            continue
        share = letters.count(expected) / len(letters)
        if share < 0.5:
            commonest = max(set(letters), key=letters.count)
            yield _finding(rule, (_say(gettext_noop("%(text)s is declared as %(language)s but is written mostly in "
                                                    "%(script)s script"), text=_where(index, text, capital=True),
                                       language=text.language, script=commonest.title()), *_who(rule)),
                           _where(index, text), text_index=index)


_SCHEDULE = Message(gettext_noop("schedule"))


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _publish_time(post: PostDraft, now: datetime) -> datetime:
    when = post.scheduled_at or now
    # A naive time is read in the mission's time zone rather than refused: the check must never crash.
    return when if when.tzinfo is not None else when.replace(tzinfo=_zone(post.time_zone))


def _quiet_hours(rule: RuleSpec, post: PostDraft, now: datetime, context: CheckContext) -> Iterator[Finding]:
    config = rule.config
    assert isinstance(config, QuietHoursConfig)
    zone_name = config.time_zone or post.time_zone
    local = _publish_time(post, now).astimezone(_zone(zone_name))
    if config.weekdays is not None and local.weekday() not in config.weekdays:
        return
    t = local.time().replace(tzinfo=None)
    # A window whose start is after its end spans midnight, e.g. 22:00-07:00.
    spans_midnight = config.start > config.end
    inside = (t >= config.start or t < config.end) if spans_midnight else config.start <= t < config.end
    if inside:
        yield _finding(rule, (_say(gettext_noop("Publishing at %(time)s (%(zone)s) falls in the quiet hours "
                                                "%(start)s–%(end)s"), time=f"{local:%H:%M}", zone=zone_name,
                                   start=f"{config.start:%H:%M}", end=f"{config.end:%H:%M}"), *_who(rule)),
                       _SCHEDULE)


def _embargo(rule: RuleSpec, post: PostDraft, now: datetime, context: CheckContext) -> Iterator[Finding]:
    config = rule.config
    assert isinstance(config, EmbargoConfig)
    when = _publish_time(post, now)
    if when >= config.until:
        return
    until = f"{config.until.astimezone(_zone(post.time_zone)):%Y-%m-%d %H:%M}"
    note = (_say(gettext_noop(" (%(note)s)"), note=config.note),) if config.note else ()
    if not config.terms:
        yield _finding(rule, (_say(gettext_noop("Embargoed until %(until)s %(zone)s"), until=until,
                                   zone=post.time_zone), *note, *_who(rule)), _SCHEDULE)
        return
    for finding in _term_findings(rule, post, _matcher(config),
                                  gettext_noop("Embargoed topic “%(term)s” found as “%(matched)s”")):
        because = (*finding.because, _say(gettext_noop("; embargoed until %(until)s %(zone)s"), until=until,
                                          zone=post.time_zone), *note)
        yield replace(finding, explanation=_english(because), because=because)


def _crisis_findings(post: PostDraft, context: CheckContext) -> Iterator[Finding]:
    for crisis in context.crises:
        matcher = _compiled_terms((*crisis.terms, *crisis.places), True)
        for index, text in enumerate(post.texts):
            for m in matcher.find(text.body):
                cell: str | Message = crisis.cell_unit_name or Message(gettext_noop("the crisis cell"))
                because = (_say(gettext_noop("The post names “%(term)s” while the crisis “%(crisis)s” is declared; "
                                             "needs clearance by an %(role)s at %(unit)s"),
                                term=m.term, crisis=crisis.name, role=_role(crisis.clearance_role), unit=cell),)
                place = _where(index, text)
                yield Finding(
                    rule_id=None, rule_name=f"Crisis: {crisis.name}", rule_kind="crisis", unit_id=crisis.cell_unit_id,
                    unit_name=crisis.cell_unit_name, severity=Severity.NEEDS_CLEARANCE,
                    explanation=_english(because), location=place.render(), text_index=index, start=m.start,
                    end=m.end, matched=m.matched,
                    clearance_role=crisis.clearance_role, clearance_unit_id=crisis.cell_unit_id,
                    clearance_unit_name=crisis.cell_unit_name, crisis_id=crisis.id, because=because, place=place,
                )


_CHECKERS = {
    RuleKind.BLOCKED_TERMS: _blocked_terms,
    RuleKind.SENSITIVE_TOPIC: _sensitive_topic,
    RuleKind.PERSONAL_DATA: _personal_data,
    RuleKind.CLASSIFICATION: _classification,
    RuleKind.LINK_DOMAINS: _link_domains,
    RuleKind.LANGUAGES: _languages,
    RuleKind.QUIET_HOURS: _quiet_hours,
    RuleKind.EMBARGO: _embargo,
}
