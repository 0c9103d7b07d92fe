"""Listening: the sources a unit listens to, the posts heard, their stories, alerts and saved searches."""

from __future__ import annotations

import functools
import gettext as gettext_module
from datetime import datetime, timedelta
from typing import Any

import pycountry
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import get_language, get_language_info, gettext, ngettext, to_locale
from django.utils.translation import gettext_lazy as _

from legation.network.models import PLATFORM_CHOICES, OfficialAccount, Unit

# Posts replayed from a file (CSV/JSONL) are a platform of their own: no connector, a line-number cursor.
FILE_PLATFORM = "file"
SOURCE_PLATFORM_CHOICES = [*PLATFORM_CHOICES, (FILE_PLATFORM, _("File (CSV / JSONL)"))]


class CrisisCategory(models.TextChoices):
    """The crisis categories of the offline models (the ten HumAID classes)."""

    REQUESTS = "requests_or_urgent_needs", _("Requests or urgent needs")
    DISPLACED = "displaced_people_and_evacuations", _("Displaced people and evacuations")
    MISSING = "missing_or_found_people", _("Missing or found people")
    INJURED = "injured_or_dead_people", _("Injured or dead people")
    CAUTION = "caution_and_advice", _("Caution and advice")
    DAMAGE = "infrastructure_and_utility_damage", _("Infrastructure and utility damage")
    RESCUE = "rescue_volunteering_or_donation_effort", _("Rescue, volunteering or donation effort")
    SYMPATHY = "sympathy_and_support", _("Sympathy and support")
    OTHER = "other_relevant_information", _("Other relevant information")
    NOT_HUMANITARIAN = "not_humanitarian", _("Not humanitarian")


class Sentiment(models.TextChoices):
    """The offline models' sentiments and their names as pages show them.

    Not the field's choices: those would need a migration for no change to the table.
    """

    NEGATIVE = "negative", _("negative")
    NEUTRAL = "neutral", _("neutral")
    POSITIVE = "positive", _("positive")


class SourceKind(models.TextChoices):
    KEYWORD = "keyword", _("Keyword query")
    HASHTAG = "hashtag", _("Hashtag")
    ACCOUNT = "account", _("Account")
    FEED = "feed", _("Feed")
    MENTIONS = "mentions", _("Mentions of our account")
    FILE = "file", _("File replay")


# (least, most) of a source's numeric settings. A pull at most every 30 days (a larger interval overflowed the
# scheduler's date arithmetic); thresholds a finite number (Infinity would never alert and is not JSON).
SOURCE_BOUNDS: dict[str, tuple[float, float]] = {
    "pull_every": (1, 43_200), "batch_size": (1, 10_000), "spike_threshold": (1.0, 1_000.0),
    "spike_min_count": (1, 1_000_000), "story_min_size": (2, 1_000_000),
}


REFUSED_KEPT = 20  # the latest refused lines a source keeps, to show where a file is wrong


class ListeningSource(models.Model):
    """Something a unit listens to on one platform, pulled on a schedule from its stored cursor."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="listening_sources")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    platform = models.CharField(_("platform"), max_length=20, choices=SOURCE_PLATFORM_CHOICES)
    query = models.CharField(_("query"), max_length=500, blank=True,
                             help_text=_("keywords, #hashtag, @account, feed address or file name"))
    account = models.ForeignKey(OfficialAccount, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="listening_sources",
                                help_text=_("the official account whose credentials (or mentions) are used"))
    active = models.BooleanField(_("active"), default=True)
    # The same bounds as the API's schema (SOURCE_BOUNDS), so the web form, the API and the CLI accept the same
    # settings.
    pull_every = models.PositiveIntegerField(_("pull every (minutes)"), default=5, validators=[
        MinValueValidator(SOURCE_BOUNDS["pull_every"][0]), MaxValueValidator(SOURCE_BOUNDS["pull_every"][1])])
    batch_size = models.PositiveIntegerField(_("posts per pull"), default=100, validators=[
        MinValueValidator(SOURCE_BOUNDS["batch_size"][0]), MaxValueValidator(SOURCE_BOUNDS["batch_size"][1])])
    cursor = models.TextField(blank=True, editable=False)
    last_pulled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set while a pull of the source runs (``tasks.pull_source``): a second pull queued meanwhile (a backed-up
    # queue, two workers) does nothing; a pull whose worker died leaves it, and it lapses after PULL_LEASE.
    pull_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Not a column: the hold this instance's pull took (``services.claim_pull``), renewed with each batch it
    # stores; None for an import or a replay, which hold nothing.
    pull_hold: datetime | None = None
    last_error = models.TextField(blank=True, editable=False)
    # The same error kept with its template and values (``reasons.stored``), so the pages say it in the reader's
    # language (``last_error_said``); {} for an error kept before migration 0027, shown as ``last_error``.
    last_error_kept = models.JSONField(default=dict, blank=True, editable=False)
    # Lines of a file (or posts of a page) refused since the question last changed: how many, and the latest
    # REFUSED_KEPT of them as {"position", "reason"}, so a scheduled import's bad lines are not lost.
    refused_count = models.PositiveIntegerField(default=0, editable=False)
    refused = models.JSONField(default=list, blank=True, editable=False)
    # Alert thresholds: a spike is an hour with this many times the usual volume (the nlp detector's
    # min_ratio) and at least spike_min_count posts; a new story alerts once it reaches story_min_size posts.
    spike_threshold = models.FloatField(_("spike threshold (times the usual volume)"), default=3.0, validators=[
        MinValueValidator(SOURCE_BOUNDS["spike_threshold"][0]),
        MaxValueValidator(SOURCE_BOUNDS["spike_threshold"][1])])
    spike_min_count = models.PositiveIntegerField(_("spike minimum posts"), default=10, validators=[
        MinValueValidator(SOURCE_BOUNDS["spike_min_count"][0]),
        MaxValueValidator(SOURCE_BOUNDS["spike_min_count"][1])])
    story_min_size = models.PositiveIntegerField(_("new story alert size"), default=8, validators=[
        MinValueValidator(SOURCE_BOUNDS["story_min_size"][0]),
        MaxValueValidator(SOURCE_BOUNDS["story_min_size"][1])])
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["unit__path", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="one_source_name_per_unit")]

    def __str__(self) -> str:
        return self.name

    @property
    def last_error_said(self) -> str:
        """The last pull's error in the reader's language (``reasons.said``); "" for none."""
        from legation.listening.reasons import said

        if not self.last_error:
            return ""
        return said(self.last_error_kept) if self.last_error_kept else self.last_error

    @property
    def refused_said(self) -> list[dict[str, Any]]:
        """The latest refused lines, newest last, each reason in the reader's language (``reasons.said``)."""
        from legation.listening.reasons import said

        return [{"position": kept.get("position"), "reason": said(kept)} for kept in self.refused]


# A story's growth when it has posts in the last hour and none the hour before: no ratio, shown as "new".
NEW_GROWTH = -1.0


class Story(models.Model):
    """A cluster of related posts heard by one unit, with its size and growth."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="stories")
    unit_path = models.CharField(max_length=500, db_index=True)
    key = models.CharField(max_length=64)
    label = models.CharField(max_length=300)
    terms = models.JSONField(default=list)
    size = models.PositiveIntegerField(default=0)
    # Posts in the last hour against the hour before (1.0 = flat, 2.0 = doubled); 0: none in the last hour;
    # NEW_GROWTH (-1): some in the last hour and none the hour before (``alerts._update_growth``).
    growth = models.FloatField(default=0.0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    alerted = models.BooleanField(default=False)
    # A story of near-duplicates: the MinHash signature of its first post (hex), which later copies are compared
    # with when they share none of its bands (``ingest._near_duplicate_keys``).
    signature = models.CharField(max_length=256, blank=True, default="")

    class Meta:
        ordering = ["-last_seen"]
        constraints = [models.UniqueConstraint(fields=["unit", "key"], name="one_story_per_unit_and_key")]
        verbose_name_plural = "stories"

    def __str__(self) -> str:
        return self.label

    @property
    def is_new(self) -> bool:
        """Posts in the last hour and none the hour before (``growth`` is NEW_GROWTH, not a ratio): shown as new."""
        return self.growth < 0

    @property
    def title(self) -> str:
        """The label in the reader's language: the crisis category it starts with is named as the pages name it
        (labels are stored once, when the story starts; ``enrichment.story_label``)."""
        head, sep, rest = self.label.partition(" — ")
        code = head.strip().replace(" ", "_")
        return f"{CrisisCategory(code).label}{sep}{rest}" if code in CrisisCategory.values else self.label


class StoryBand(models.Model):
    """One locality-sensitive key of the near-duplicates a unit's story holds (a band of 4 of the 32 MinHash
    values, hashed to 64 bits): a later post sharing a band with it joins the story, though its text differs a little (a
    templated campaign, "post number 17 about ..."), where the exact signature would differ. Written by
    ingestion (``ingest._near_duplicate_keys``); a story keeps the bands most of its posts share."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="bands")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    band = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "band"], name="one_story_per_unit_and_band")]

    def __str__(self) -> str:
        return f"{self.story_id}: {self.band}"


def heard_mark(value: object) -> str:
    """How one unit path or source id appears in ``heard_by`` / ``heard_sources``: between bars."""
    return f"|{value}|"


def country_list(stored: str | None) -> list[str]:
    """The country codes of an item's ``countries`` column (stored as ",LY,FR," for exact matching)."""
    return [code for code in (stored or "").split(",") if code]


class Need(models.TextChoices):
    """The needs the offline models find in a post (``legation.nlp.extract.NEED_TERMS``), named as pages show them."""

    WATER = "water", _("water")
    FOOD = "food", _("food")
    MEDICINE = "medicine", _("medicine")
    SHELTER = "shelter", _("shelter")
    TRANSPORT = "transport", _("transport")


class Reading(models.Model):
    """What the offline models read in a post, stored beside it: a listened post, a message to one of our accounts.

    ``language`` is not here: each model keeps its own (a platform may say it, with its own length).
    """

    sentiment = models.CharField(max_length=10, blank=True)
    # A ministry's own crisis model may have other labels: they are stored and shown as they are.
    crisis_category = models.CharField(max_length=40, blank=True, choices=CrisisCategory.choices)
    places = models.JSONField(default=list)
    # ISO country codes between commas (",FR,DE,"), so one indexed-friendly contains filter finds a country.
    countries = models.CharField(max_length=200, blank=True)
    head_count = models.PositiveIntegerField(null=True, blank=True)
    phones = models.JSONField(default=list)
    needs = models.JSONField(default=list)

    class Meta:
        abstract = True

    @property
    def sentiment_label(self) -> str:
        """The sentiment's name in the reader's language; another model's label as it is."""
        return str(Sentiment(self.sentiment).label) if self.sentiment in Sentiment.values else self.sentiment

    @property
    def need_labels(self) -> list[str]:
        """The needs' names in the reader's language; another model's as they are."""
        return [str(Need(need).label) if need in Need.values else need for need in self.needs]


class ListenedItem(Reading):
    """One public post, stored once per (platform, external id) whichever sources heard it, enriched offline.

    ``source``, ``unit`` and ``story`` are those of the first source that heard it (another unit's story joins
    it by ``StoryMember``); ``heard_by`` lists the path of every unit that heard it ("|/1/4/|/1/7/|") and
    ``heard_sources`` every source ("|3|12|"), so a unit's search and a permission filter are one condition on
    the row itself, with no join.
    """

    source = models.ForeignKey(ListeningSource, on_delete=models.SET_NULL, null=True, related_name="items")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    # The first unit's path.
    unit_path = models.CharField(max_length=500)
    heard_by = models.TextField(default="", blank=True)
    heard_sources = models.TextField(default="", blank=True)
    platform = models.CharField(max_length=20)
    external_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, default="post")
    text = models.TextField()
    author = models.CharField(max_length=200, blank=True)
    url = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(db_index=True)
    ingested_at = models.DateTimeField(auto_now_add=True)
    language = models.CharField(max_length=8, blank=True)
    dup_signature = models.CharField(max_length=32, blank=True, db_index=True)
    story = models.ForeignKey(Story, on_delete=models.SET_NULL, null=True, blank=True, related_name="items")
    # Ingestion reads with the fast tier; a person may ask the accurate tier to read a post again (on demand).
    read_accurately_at = models.DateTimeField(null=True, blank=True)
    # When a person last asked for that (``services.request_accurate_reading``): a second request meanwhile queues
    # nothing again.
    reread_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Stored once: a post heard by two units (or two sources) is one row listing both.
            models.UniqueConstraint(fields=["platform", "external_id"], name="one_item_per_post"),
        ]
        indexes = [
            models.Index(fields=["language", "created_at"], name="listening_item_lang_time"),
            models.Index(fields=["crisis_category", "created_at"], name="listening_item_cat_time"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"

    @property
    def language_label(self) -> str:
        """The language's name in the reader's language ("français"); "undetermined" for none."""
        return language_name(self.language) if self.language not in ("", "und") else str(_("undetermined"))


class StoryMember(models.Model):
    """A post stored for another unit that belongs to this unit's story too: the unit heard it afterwards.

    A post has one ``story``, its first unit's. A unit that hears the post again gets its own story of the same
    key (its label and terms copied from the first unit's), which these rows join, so that story grows, has a
    growth and alerts as if the unit had stored the post itself.
    """

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(ListenedItem, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "item"], name="one_membership_per_story_and_post")]

    def __str__(self) -> str:
        return f"{self.story_id}: {self.item_id}"


class AlertKind(models.TextChoices):
    SPIKE = "spike", _("Spike")
    NEW_STORY = "new_story", _("New story")


class Alert(models.Model):
    """A spike or a new story that crossed a unit's threshold; shown in the app and e-mailed."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="listening_alerts")
    unit_path = models.CharField(max_length=500, db_index=True)
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    # What crossed the threshold ("language:fr", "country:ID", "story:12"), plus its window, so it alerts once.
    key = models.CharField(max_length=200)
    message = models.CharField(max_length=500)
    story = models.ForeignKey(Story, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts")
    count = models.PositiveIntegerField(default=0)
    score = models.FloatField(null=True, blank=True)  # a spike's times the usual volume
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_to = models.PositiveIntegerField(default=0)
    # When the first e-mail try ended (sent, or its retries queued): until then the guard task that was queued
    # with the alert (``tasks.email_alert_guard``) sends it, if the process raising it died first.
    email_tried_at = models.DateTimeField(null=True, blank=True)
    # Whom the first e-mail try has reached so far, group by group: the guard e-mails only the others.
    email_handled = models.JSONField(default=list, blank=True, editable=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["unit", "kind", "key"], name="one_alert_per_unit_key")]

    def __str__(self) -> str:
        return self.message

    @property
    def text(self) -> str:
        """The alert in the reader's language (``message`` keeps the English wording the ledger recorded).

        A spike without a score is one over hours that had no posts of its series (``alerts.evaluate``): no
        ratio to show, it says "usually none"."""
        if self.kind == AlertKind.NEW_STORY and self.story is not None:
            return ngettext("New story: %(label)s (%(count)s post)", "New story: %(label)s (%(count)s posts)",
                            self.count) % {"label": self.story.title, "count": self.count}
        if self.kind == AlertKind.SPIKE and self.score is None:
            return ngettext("Spike in %(what)s: %(count)s post in the last hour (usually none)",
                            "Spike in %(what)s: %(count)s posts in the last hour (usually none)",
                            self.count) % {"what": series_name(self.key.rsplit("@", 1)[0]), "count": self.count}
        if self.kind == AlertKind.SPIKE and self.score is not None:
            return ngettext("Spike in %(what)s: %(count)s post in the last hour (%(score)s× the usual)",
                            "Spike in %(what)s: %(count)s posts in the last hour (%(score)s× the usual)",
                            self.count) % {"what": series_name(self.key.rsplit("@", 1)[0]), "count": self.count,
                                           "score": number_format(self.score, 1)}
        return self.message


def country_name(code: str) -> str:
    """A country's name in the reader's language (ISO 3166 and its translations, from pycountry); the code as
    it is when unknown."""
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    return _country_names(get_language() or settings.LANGUAGE_CODE).gettext(name)


def place_label(name: str, country: str = "") -> str:
    """A place as the reader names it: a country (a place the gazetteer reads as a country's name, in that
    country) in the reader's language, as ``country_name`` names it; another place as the gazetteer spells
    it (GeoNames' other names carry no language, so a city's name in Arabic is not known)."""
    code = _country_of_place(name)
    return country_name(code) if code and (not country or country.upper() == code) else name


@functools.lru_cache(maxsize=4096)
def _country_of_place(name: str) -> str:
    from legation.listening.enrichment import country_named

    return country_named(name)


def country_code(typed: str) -> str:
    """The ISO 3166 code of a country typed as its code ("ly", "LBY") or its name in English or in a language of
    the interface ("Libya", "ليبيا", "Libye"), case aside; "" when no country has that code or name."""
    return _country_codes().get(" ".join(typed.split()).casefold(), "")


@functools.cache
def _country_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for country in pycountry.countries:
        for code in (country.alpha_2, country.alpha_3):
            codes[code.casefold()] = country.alpha_2
    languages = ["en", *(code for code, _name in settings.LANGUAGES if code != "en")]
    for language in languages:
        names = _country_names(language)
        for country in pycountry.countries:
            for name in (getattr(country, "common_name", None), country.name, getattr(country, "official_name", None)):
                if name:
                    codes.setdefault(names.gettext(name).casefold(), country.alpha_2)
    return codes


@functools.lru_cache(maxsize=32)
def _iso_names(domain: str, language: str) -> gettext_module.NullTranslations:
    """pycountry's translations of an ISO standard's names ("iso3166-1" countries, "iso639-3" languages)."""
    return gettext_module.translation(domain, pycountry.LOCALES_DIR, languages=[to_locale(language)], fallback=True)


def _country_names(language: str) -> gettext_module.NullTranslations:
    return _iso_names("iso3166-1", language)


def language_name(code: str) -> str:
    """A language's name in the reader's language ("fr": "French", "français" for a French reader): Django's
    name, else ISO 639's and its translations (pycountry: "zh", "so", "ceb" that Django does not name, and
    those whose name Django's catalogues leave in English, "Norwegian" for a French reader); the code as it is
    when neither knows it."""
    try:
        info = get_language_info(code)
    except KeyError:
        info = None
    if info is not None and (str(info["name_translated"]) != info["name"]
                             or (get_language() or settings.LANGUAGE_CODE).startswith("en")):
        return str(info["name_translated"])
    field = {2: "alpha_2", 3: "alpha_3"}.get(len(code))
    language = pycountry.languages.get(**{field: code.lower()}) if field else None
    if language is None:
        return str(info["name_translated"]) if info is not None else code
    translated = _iso_names("iso639-3", get_language() or settings.LANGUAGE_CODE).gettext(language.name)
    return str(info["name_translated"]) if info is not None and translated == language.name else translated


def series_name(key: str) -> str:
    """A volume series (``ingest.series_keys``: all, language:fr, category:..., country:LY, place:Benghazi) as a
    reader names it."""
    kind, _sep, value = key.partition(":")
    if kind == "language":
        return gettext("posts in %(language)s") % {"language": language_name(value)}
    if kind == "category":
        label = CrisisCategory(value).label if value in CrisisCategory.values else value.replace("_", " ")
        return gettext("the category %(category)s") % {"category": label}
    if kind == "country":
        return gettext("posts about %(country)s") % {"country": country_name(value)}
    if kind == "place":
        return gettext("posts naming %(place)s") % {"place": place_label(value)}
    if kind == "term":
        return gettext("posts with %(term)s") % {"term": value}
    return gettext("all posts")


class SavedSearch(models.Model):
    """A person's named search (query and filters) on a unit."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="saved_searches")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(_("name"), max_length=200)
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    replaced = False  # set by ``services.save_search`` when it replaced one of the same name (not stored)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "unit", "name"], name="one_saved_search_name")]

    def __str__(self) -> str:
        return self.name


class PlaceName(models.Model):
    """One row per place a listened post names: the place's name, lowercased, beside the post's id.

    The search's place filter looks a name up by prefix in this table's index instead of reading every post's
    places as text. Kept by database triggers on ``ListenedItem`` (migration 0018) whenever a post is stored,
    its places change or it is deleted, whoever writes it (ingestion, the accurate tier, an operator's SQL);
    Legation never writes it. SQLite lowercases with ``fulltext.place_key``, PostgreSQL with ``lower()``.
    """

    item_id = models.BigIntegerField()
    name_key = models.CharField(max_length=200)

    class Meta:
        indexes = [
            # varchar_pattern_ops: PostgreSQL answers LIKE 'prefix%' from the index (ignored on SQLite).
            models.Index(fields=["name_key"], name="placename_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["item_id"], name="placename_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.name_key}"


# How long the counters are kept (``tasks.purge_old_counts``): alerts compare the last 12 hours minute by minute,
# the trends of terms read up to 48 hours per clock hour (minutes older than 13 hours are folded into hours).
COUNTS_KEPT = timedelta(hours=48)


class HeardCount(models.Model):
    """Posts a unit heard per minute of their time, in total and per language, category, country, place and term.

    Kept by ingestion in the transaction that stores (or marks as heard) the posts, so the alerts read a few
    hundred counters instead of regrouping the unit's posts. ``minute``: minutes since 1970-01-01 UTC of the
    post's ``created_at``; ``key``: "all", "language:fr", "category:caution_and_advice", "country:FR",
    "place:Misratah", "term:#flood" or "term:evacuation" (``ingest.series_keys``).
    """

    unit_path = models.CharField(max_length=500)
    minute = models.BigIntegerField()
    key = models.CharField(max_length=250)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit_path", "minute", "key"], name="one_count_per_minute")]
        indexes = [models.Index(fields=["minute"], name="heardcount_minute")]  # the hourly purge

    def __str__(self) -> str:
        return f"{self.unit_path} {self.minute} {self.key}: {self.n}"
