"""The kinds of guidance rule and the typed configuration of each. Pure Python (pydantic), no Django.

Bad configuration fails here, at the edge, with a message naming the field: ``parse_config(kind, raw)``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Annotated, Any, Literal

import regex
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator


class RuleKind(enum.StrEnum):
    BLOCKED_TERMS = "blocked_terms"
    SENSITIVE_TOPIC = "sensitive_topic"
    PERSONAL_DATA = "personal_data"
    CLASSIFICATION = "classification"
    LINK_DOMAINS = "link_domains"
    LANGUAGES = "languages"
    QUIET_HOURS = "quiet_hours"
    EMBARGO = "embargo"


class Severity(enum.StrEnum):
    BLOCK = "block"  # cannot be published as it is
    NEEDS_CLEARANCE = "needs_clearance"  # waits for a given role at a given unit
    WARN = "warn"  # shown to the author, publishes anyway


SEVERITY_ORDER = {Severity.BLOCK: 0, Severity.NEEDS_CLEARANCE: 1, Severity.WARN: 2}

def gettext_noop(message: str) -> str:
    """Marks a label for translation catalogues (makemessages looks for this name) without importing Django."""
    return message


def _as_written(text: str) -> str:
    return text


@dataclass(frozen=True)
class Message:
    """Words for a person: an English text marked with ``gettext_noop`` and its named values, kept apart so that
    the text is translated when shown, in the reader's language, while kinds and the engine stay free of Django."""

    text: str  # with %(name)s placeholders for the values
    values: tuple[tuple[str, str | Message], ...] = ()

    def render(self, translate: Callable[[str], str] = _as_written) -> str:
        """The words with their values in, each text (this one and nested ones) passed through ``translate``."""
        values = {name: value.render(translate) if isinstance(value, Message) else value
                  for name, value in self.values}
        return translate(self.text) % values if values else translate(self.text)

    def as_data(self) -> dict[str, Any]:
        """A JSON-ready form, for findings that are stored and shown later (publishing keeps them on the post)."""
        return {"text": self.text, "values": {name: value.as_data() if isinstance(value, Message) else value
                                              for name, value in self.values}}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Message:
        values = data.get("values") or {}
        return cls(str(data["text"]), tuple((str(name), cls.from_data(value) if isinstance(value, dict) else str(value))
                                            for name, value in values.items()))


class ConfigRefusal(ValueError):
    """A bad configuration value, with its reason kept as a :class:`Message` so the Django layer can translate it
    (pydantic hands the exception on in the error's context)."""

    def __init__(self, text: str, /, **values: str) -> None:
        self.message = Message(text, tuple(values.items()))
        super().__init__(self.message.render())


KIND_LABELS: dict[RuleKind, str] = {
    RuleKind.BLOCKED_TERMS: gettext_noop("Blocked terms"),
    RuleKind.SENSITIVE_TOPIC: gettext_noop("Sensitive topic (needs clearance)"),
    RuleKind.PERSONAL_DATA: gettext_noop("Personal data"),
    RuleKind.CLASSIFICATION: gettext_noop("Classification markings"),
    RuleKind.LINK_DOMAINS: gettext_noop("Link domains"),
    RuleKind.LANGUAGES: gettext_noop("Languages per account"),
    RuleKind.QUIET_HOURS: gettext_noop("Quiet hours"),
    RuleKind.EMBARGO: gettext_noop("Embargo"),
}

DEFAULT_SEVERITY: dict[RuleKind, Severity] = {
    RuleKind.BLOCKED_TERMS: Severity.BLOCK,
    RuleKind.SENSITIVE_TOPIC: Severity.NEEDS_CLEARANCE,
    RuleKind.PERSONAL_DATA: Severity.BLOCK,
    RuleKind.CLASSIFICATION: Severity.BLOCK,
    RuleKind.LINK_DOMAINS: Severity.BLOCK,
    RuleKind.LANGUAGES: Severity.WARN,
    RuleKind.QUIET_HOURS: Severity.WARN,
    RuleKind.EMBARGO: Severity.BLOCK,
}

DEFAULT_PASSPORT_PATTERNS = [
    r"\b[A-Z]{1,2}[0-9]{6,8}\b",  # most machine-readable passports: one or two letters, then digits
    r"\b[0-9]{2}[A-Z]{2}[0-9]{5}\b",  # France
    # A number right after the word "passport" in several languages (Russian series and number included).
    r"(?i:passport|passeport|pasaporte|passaporto|reisepass|paspoort|паспорт|جواز|گذرنامه|护照|護照|旅券|여권)"
    r"\D{0,20}?([0-9][0-9 ]{5,11}[0-9])",
]


def _has_word_character(value: str) -> str:
    value = value.strip()
    if not any(ch.isalnum() for ch in value):
        raise ConfigRefusal(gettext_noop("'%(value)s' has no letter or digit to match"), value=value)
    return value


def _compiles(value: str) -> str:
    try:
        regex.compile(value)
    except regex.error as exc:
        raise ConfigRefusal(gettext_noop("'%(value)s' is not a valid pattern: %(error)s"), value=value,
                            error=str(exc)) from exc
    return value


Term = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_has_word_character)]
Pattern = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_compiles)]
LanguageCode = Annotated[str, Field(min_length=2, max_length=12, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TermsConfig(_Config):
    """Blocked terms and sensitive topics: words or names; "word*" matches any word beginning with it."""

    terms: list[Term] = Field(min_length=1, max_length=1000)
    whole_words: bool = True


class PersonalDataConfig(_Config):
    phones: bool = True
    emails: bool = True
    passports: bool = True
    passport_patterns: list[Pattern] = Field(default_factory=lambda: list(DEFAULT_PASSPORT_PATTERNS))
    # Published on purpose: the mission's own numbers and addresses; "@example.org" allows a whole domain.
    allow: list[str] = Field(default_factory=list, max_length=500)


class ClassificationConfig(_Config):
    terms: list[Term] = Field(default_factory=list, max_length=500)  # matched like blocked terms
    patterns: list[Pattern] = Field(default_factory=list, max_length=100)  # regular expressions, case-insensitive

    @model_validator(mode="after")
    def _something_to_look_for(self) -> ClassificationConfig:
        if not self.terms and not self.patterns:
            raise ConfigRefusal(gettext_noop("give at least one of terms or patterns"))
        return self


class LinkDomainsConfig(_Config):
    mode: Literal["allow", "refuse"]
    domains: list[str] = Field(min_length=1, max_length=1000)

    @field_validator("domains")
    @classmethod
    def _hosts(cls, values: list[str]) -> list[str]:
        from legation.guidance.links import normalise_host

        hosts = []
        for value in values:
            host = normalise_host(value)
            if host is None:
                raise ConfigRefusal(gettext_noop("'%(value)s' is not a domain name"), value=value)
            hosts.append(host.ascii)
        return hosts


class LanguagesConfig(_Config):
    languages: list[LanguageCode] = Field(default_factory=list)  # allowed on every account of the unit
    accounts: dict[str, list[LanguageCode]] = Field(default_factory=dict)  # "12" or "mastodon:@handle" → allowed
    check_script: bool = True  # a text declared Arabic but written in Latin letters is flagged


class QuietHoursConfig(_Config):
    start: time
    end: time
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] | None = None  # 0 = Monday; None = every day
    time_zone: str | None = None  # default: the mission's

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        import zoneinfo

        if value is not None and value not in zoneinfo.available_timezones():
            raise ConfigRefusal(gettext_noop("unknown time zone '%(zone)s'"), zone=value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursConfig:
        if self.start == self.end:
            raise ConfigRefusal(gettext_noop("start and end must differ"))
        return self


class EmbargoConfig(_Config):
    until: datetime
    terms: list[Term] = Field(default_factory=list)  # only posts naming these; none = every post
    note: str = ""

    @field_validator("until")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ConfigRefusal(gettext_noop("give a time zone offset, e.g. 2025-06-01T09:00:00+02:00"))
        return value


RuleConfig = (
    TermsConfig | PersonalDataConfig | ClassificationConfig | LinkDomainsConfig | LanguagesConfig
    | QuietHoursConfig | EmbargoConfig
)

CONFIG_MODELS: dict[RuleKind, type[_Config]] = {
    RuleKind.BLOCKED_TERMS: TermsConfig,
    RuleKind.SENSITIVE_TOPIC: TermsConfig,
    RuleKind.PERSONAL_DATA: PersonalDataConfig,
    RuleKind.CLASSIFICATION: ClassificationConfig,
    RuleKind.LINK_DOMAINS: LinkDomainsConfig,
    RuleKind.LANGUAGES: LanguagesConfig,
    RuleKind.QUIET_HOURS: QuietHoursConfig,
    RuleKind.EMBARGO: EmbargoConfig,
}


def parse_config(kind: RuleKind | str, raw: dict[str, Any] | BaseModel) -> RuleConfig:
    """Validate a rule's configuration; raises pydantic's ValidationError naming each bad field."""
    model = CONFIG_MODELS[RuleKind(kind)]
    if isinstance(raw, model):
        return raw  # type: ignore[return-value]
    data = raw.model_dump() if isinstance(raw, BaseModel) else raw
    return model.model_validate(data)  # type: ignore[return-value]
