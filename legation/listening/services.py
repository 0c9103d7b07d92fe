"""Every user-facing write of listening: sources, saved searches, alerts, imports.

Each service checks the actor's role on the unit, writes, and appends one ledger record, in one transaction.
Services called by the system (the scheduler, the CLI operator) take ``actor=None``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import ProhibitNullCharactersValidator
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from legation.connectors.addresses import check_url
from legation.connectors.base import Capability, ConfigError, ConnectorError
from legation.connectors.registry import PROVIDERS, provider_class
from legation.listening import pipeline, reasons
from legation.listening.enrichment import Enriched, apply_reading, enrich_batch
from legation.listening.ingest import IngestResult, Post, Prepared, Rejected, prepare, write
from legation.listening.models import (
    FILE_PLATFORM,
    REFUSED_KEPT,
    Alert,
    ListenedItem,
    ListeningSource,
    SavedSearch,
    SourceKind,
    Story,
)
from legation.listening.pipeline import Batch, Enricher
from legation.listening.search import as_seen_by, parse_moment, visible_items, without_nul
from legation.network.models import OfficialAccount, Person, Unit
from legation.network.permissions import Action, require
from legation.records import ledger

logger = logging.getLogger(__name__)

SOURCE_FIELDS = ("name", "kind", "platform", "query", "account", "active", "pull_every", "batch_size",
                 "spike_threshold", "spike_min_count", "story_min_size")
DEMO_FILES_DIR = Path(__file__).resolve().parent / "fixtures"


def files_dir() -> Path:
    """Where file sources may read from: LEGATION_DATA_DIR/listening (and the packaged demo file)."""
    return Path(getattr(settings, "LISTENING_FILES_DIR", settings.DATA_DIR / "listening"))


def encodable(value: object) -> bool:
    """Whether a string can be stored (UTF-8): a lone surrogate ("\\udfff" in JSON) cannot, and was a 500."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def resolve_file(name: str, unit: Unit | None = None, *, scoped: bool = True) -> Path:
    """The file a file source reads; only inside the listening files directory or the packaged demo.

    With ``unit`` (a person sets the source up), only a file that unit may read: one in its own folder
    (``<data dir>/listening/<unit id>/``, where a plain name is looked for first), in the folder of a unit below
    it (``<unit id>/name``), or at the top of the directory for a unit with none above it (the ministry). A file
    another unit's folder holds is "no file", as one that does not exist: a mission learns nothing of the
    others' files; a pull of a source a person set up checks it again, so a file put at the top later is not
    read in place of one that has gone. Without ``unit`` (the operator's CLI), or not ``scoped`` (a pull of a
    source the operator's CLI set up), any file in the directory, the unit's folder first."""
    missing = missing_file(name, unit)
    refused = ValidationError({"query": _(missing.template) % missing.params})
    bases = [DEMO_FILES_DIR]
    if unit is None:
        bases.insert(0, files_dir())
    else:
        bases[:0] = [files_dir() / str(unit.pk), files_dir()]
    for base in bases:
        try:
            candidate = (base / name).resolve()
            found = candidate.is_relative_to(base.resolve()) and candidate.is_file()
        except (OSError, ValueError):  # a name too long for the file system, a NUL
            found = False
        if found and (unit is None or not scoped or base != files_dir() or _unit_may_read(unit, candidate)):
            return candidate
    raise refused


def missing_file(name: str, unit: Unit | None) -> reasons.Reason:
    """Why a file source's file cannot be read: no such file in the folder its unit reads."""
    return reasons.Reason(gettext_noop("no file named %(name)s in %(folder)s"), name=repr(name),
                          folder="LEGATION_DATA_DIR/listening" + (f"/{unit.pk}" if unit else ""))


def _unit_may_read(unit: Unit, path: Path) -> bool:
    """Whether a file at the top of the listening directory, or in a unit's folder there, is ``unit``'s to read:
    in the folder of the unit or of a unit below it; at the top, only for a unit with none above it."""
    parts = path.relative_to(files_dir().resolve()).parts
    if len(parts) == 1:
        return unit.parent_id is None
    folder = parts[0]  # a unit's folder is named by its id as written by str(): not "03", "٣" or "３"
    owner = Unit.objects.filter(pk=int(folder)).first() if folder.isascii() and folder.isdecimal() and \
        str(int(folder)) == folder else None
    return owner is not None and owner.is_within(unit)


def capability_needed(kind: str, query: str) -> Capability:
    """What a source of this kind asks of its platform's connector (``pull`` calls the matching method)."""
    if kind == SourceKind.MENTIONS:
        return Capability.PULL_MENTIONS
    if kind == SourceKind.ACCOUNT:  # another account's posts, by its handle in the query
        return Capability.PULL_ACCOUNT
    if kind == SourceKind.FEED:
        return Capability.PULL_TIMELINE
    return Capability.SEARCH


def _check_platform_can(source: ListeningSource) -> None:
    """Refuse, when it is set up, a source its platform cannot serve, rather than pause it at its first pull."""
    if source.platform == FILE_PLATFORM:
        return
    provider = provider_class(source.platform)
    name = _(PROVIDERS[source.platform][0])
    need = capability_needed(source.kind, source.query.strip())
    if not provider.supports(need):
        cannot = {
            Capability.SEARCH: _("%(platform)s cannot search public posts through Legation: choose another "
                                 "kind of source or another platform"),
            Capability.PULL_TIMELINE: _("%(platform)s cannot read an account's posts or a feed through "
                                        "Legation: choose another kind of source or another platform"),
            Capability.PULL_ACCOUNT: _("%(platform)s cannot read another account's posts through Legation: "
                                       "listen to its mentions with a keyword query instead, or choose another "
                                       "platform"),
            Capability.PULL_MENTIONS: _("%(platform)s cannot pull the mentions of our account through "
                                        "Legation: choose another kind of source or another platform"),
        }[need]
        raise ValidationError({"kind": cannot % {"platform": name}})
    if provider.credential_fields and source.account is None:
        raise ValidationError({"account": _("%(platform)s is heard through one of our accounts there: choose it "
                                            "(an admin registers it under Accounts first)") % {"platform": name}})
    first = provider.credential_fields[0] if provider.credential_fields else ""
    if first and source.account is not None and not source.account.credentials.filter(name=first).exists():
        raise ValidationError({"account": _("%(account)s has no %(credential)s stored: an admin sets it under "
                                            "Accounts before it can be listened through")
                                          % {"account": source.account.handle, "credential": first}})


def _validate_source(source: ListeningSource, *, check_file: bool = True, platform_check: bool = True) -> None:
    for field in ("name", "query"):  # PostgreSQL takes no NUL in a string: refused here, not a 500 there
        try:
            ProhibitNullCharactersValidator()(getattr(source, field))
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from None
        if not encodable(getattr(source, field)):
            raise ValidationError({field: _("holds a character that is not text (a lone surrogate)")})
    if source.platform != FILE_PLATFORM and source.platform not in PROVIDERS:
        raise ValidationError({"platform": _("unknown platform %(platform)s") % {"platform": repr(source.platform)}})
    if (source.kind == SourceKind.FILE) != (source.platform == FILE_PLATFORM):
        raise ValidationError({"kind": _("file replays are the kind 'file' on the platform 'file'")})
    if source.kind == SourceKind.FILE:
        if check_file:
            resolve_file(source.query, source.unit)
    elif source.kind != SourceKind.MENTIONS and not source.query.strip():
        raise ValidationError({"query": _("say what to listen for")})
    if source.kind == SourceKind.MENTIONS and source.account is None:
        raise ValidationError({"account": _("mentions are those of one of our official accounts")})
    if source.kind == SourceKind.FEED and source.platform in PROVIDERS:
        provider = provider_class(source.platform)
        if "feed_url" in provider.config_model.model_fields:
            config = {**(source.account.config if source.account else {}), "feed_url": source.query.strip()}
            try:
                provider.parse_config(config)
            except ConfigError as exc:
                raise ValidationError({"query": exc.message}) from None
        elif platform_check and "://" in source.query:  # the pull reads the account's timeline, not the address
            raise ValidationError({"query": _("%(platform)s reads the timeline of the account chosen, not a feed's "
                                              "address: a feed is read on the platform RSS / Atom feed")
                                   % {"platform": _(PROVIDERS[source.platform][0])}})
    if source.account is not None:
        if source.account.platform != source.platform:
            raise ValidationError({"account": _("the account is on another platform")})
        if not source.unit.is_within(source.account.unit) and not source.account.unit.is_within(source.unit):
            raise ValidationError({"account": _("the account belongs to an unrelated unit")})
        # A search may go through an account of a unit above (the ministry's platform access serves its
        # missions); an account's own mentions and timeline are read only by its unit and the units above it.
        if platform_check and source.kind in (SourceKind.MENTIONS, SourceKind.FEED) and \
                not source.account.unit.is_within(source.unit):
            raise ValidationError({"account": _("the mentions and timeline of an account are read by its own unit "
                                                "or a unit above it, not by a unit below")})
    source.full_clean(exclude=["unit", "account", "created_by"], validate_unique=False)
    if ListeningSource.objects.filter(unit=source.unit, name=source.name).exclude(pk=source.pk).exists():
        raise ValidationError({"name": _("this unit already has a source with that name")})
    if platform_check:
        _check_platform_can(source)


def _check_feed_address(kind: str, query: str) -> None:
    """A feed on a private, loopback or link-local address (the ministry's intranet, a cloud's metadata
    service) is refused at setup, as every fetch would refuse it; a host that does not resolve now is left to
    the pulls to report (the name server may be down for a while). Called before the setup's transaction: a
    slow name server must not hold the database (SQLite's one writer) meanwhile."""
    if kind != SourceKind.FEED or "://" not in query:
        return
    if not encodable(query):
        raise ValidationError({"query": _("holds a character that is not text (a lone surrogate)")})
    try:
        check_url(query.strip())
    except ConnectorError as exc:
        if exc.permanent:
            raise ValidationError({"query": exc.message}) from None


def create_source(actor: Person | None, *, unit: Unit, name: str, kind: str, platform: str, query: str = "",
                  account: OfficialAccount | None = None, **options: Any) -> ListeningSource:
    """Start listening to something for a unit; needs editor there."""
    if actor is not None:
        require(actor, Action.LISTENING_MANAGE, unit)
    _check_feed_address(kind, query)
    try:
        with transaction.atomic():
            return _create_source(actor, unit=unit, name=name, kind=kind, platform=platform, query=query,
                                  account=account, **options)
    except IntegrityError:  # another request made a source of that name in the meantime
        if ListeningSource.objects.filter(unit=unit, name=name.strip()).exists():
            raise ValidationError({"name": _("this unit already has a source with that name")}) from None
        raise


def _create_source(actor: Person | None, *, unit: Unit, name: str, kind: str, platform: str, query: str,
                   account: OfficialAccount | None, **options: Any) -> ListeningSource:
    unknown = set(options) - set(SOURCE_FIELDS)
    if unknown:
        raise ValidationError({name: _("unknown setting") for name in unknown})
    source = ListeningSource(unit=unit, name=name.strip(), kind=kind, platform=platform, query=query.strip(),
                             account=account, created_by=actor, **options)
    _validate_source(source, check_file=actor is not None)  # the operator's CLI may name any file
    source.save()
    ledger.append(actor, "listening.source_created", obj=source, unit=unit,
                  payload={"name": source.name, "kind": kind, "platform": platform, "query": source.query})
    return source


def update_source(actor: Person | None, source: ListeningSource, **changes: Any) -> ListeningSource:
    """Change a source's query, schedule, thresholds or state; needs editor on its unit."""
    if actor is not None:
        require(actor, Action.LISTENING_MANAGE, source.unit)
    if {"kind", "platform", "query"} & set(changes) and isinstance(changes.get("query", source.query), str):
        _check_feed_address(str(changes.get("kind", source.kind)), changes.get("query", source.query))
    with transaction.atomic():
        _lock_source(source)
        return _update_source(actor, source, **changes)


def _lock_source(source: ListeningSource) -> None:
    """Hold the source's row for the transaction (a change and a deletion of it take turns, in the same order
    of locks as the ledger's); Http404 if it was deleted since it was read."""
    if not ListeningSource.objects.select_for_update().filter(pk=source.pk).exists():
        raise Http404("this source was deleted")


def _update_source(actor: Person | None, source: ListeningSource, **changes: Any) -> ListeningSource:
    unknown = set(changes) - set(SOURCE_FIELDS)
    if unknown:
        raise ValidationError({name: _("cannot be changed here") for name in unknown})
    nulls = [name for name, value in changes.items()
             if value is None and not ListeningSource._meta.get_field(name).null]
    if nulls:
        raise ValidationError({name: models.Field.default_error_messages["null"] for name in nulls})
    before = {name: _plain(getattr(source, name)) for name in changes}
    for name, value in changes.items():
        setattr(source, name, value)
    fields = set(changes)  # only these are written: a pull storing meanwhile keeps its cursor
    if "query" in changes or "kind" in changes or "platform" in changes:
        source.cursor = ""  # a different question starts from the beginning
        source.refused, source.refused_count = [], 0
        fields |= {"cursor", "refused", "refused_count"}
    if changes.get("active"):
        source.last_error, source.last_error_kept = "", {}
        fields |= {"last_error", "last_error_kept"}
    # What was not changed is not checked again: pausing a source or changing its thresholds is not refused
    # because its file has since gone, the operator's CLI named a file outside the folder, or it was set up
    # before a check existed.
    _validate_source(source, check_file=actor is not None and "query" in changes,
                     platform_check=bool({"kind", "platform", "query", "account"} & set(changes)))
    source.save(update_fields=sorted(fields))
    ledger.append(actor, "listening.source_updated", obj=source, unit=source.unit,
                  payload={"before": before, "after": {name: _plain(getattr(source, name)) for name in changes}})
    return source


def _plain(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


@transaction.atomic
def delete_source(actor: Person | None, source: ListeningSource) -> None:
    """Stop listening and remove the source; the posts it heard stay searchable."""
    if actor is not None:
        require(actor, Action.LISTENING_MANAGE, source.unit)
    _lock_source(source)  # a second deletion of it finds it gone (404), and writes no second record
    ledger.append(actor, "listening.source_deleted", obj=source, unit=source.unit, payload={"name": source.name})
    source.delete()


def ingest_posts(source: ListeningSource, posts: Iterable[Post], *, cursor: str | None = None) -> IngestResult:
    """Ingest a batch heard by a source and move its cursor, together (so a crash neither loses nor repeats)."""
    batch = prepare(source, posts)
    records = enrich_batch(batch.texts) if batch.fresh else []
    return _commit(source, batch, records, cursor)


def ingest_batches(source: ListeningSource, batches: Iterable[Batch], *,
                   enricher: Enricher | None = None) -> Iterator[IngestResult]:
    """Ingest batches in order, each with its cursor in its own transaction, enriching the next batches in
    other processes while one is stored (``pipeline``); yields each batch's result once it is committed."""
    return pipeline.stream(source, batches, lambda batch, records, cursor: _commit(source, batch, records, cursor),
                           enricher=enricher)


def _commit(source: ListeningSource, batch: Prepared, records: Sequence[Enriched], cursor: str | None) -> IngestResult:
    with transaction.atomic():
        _renew_pull(source)
        result = write(source, batch, records)
        fields = ["last_pulled_at", "last_error", "last_error_kept"]
        source.last_pulled_at = timezone.now()
        source.last_error, source.last_error_kept = "", {}
        if cursor is not None:
            source.cursor = cursor
            fields.append("cursor")
        if result.rejected:
            _keep_refused(source, result.rejected)
            fields += ["refused", "refused_count"]
        source.save(update_fields=fields)
    return result


def _keep_refused(source: ListeningSource, rejected: Sequence[Rejected]) -> None:
    """Count a pull's refused lines on the source and keep the latest REFUSED_KEPT, with their reasons."""
    latest = sorted(rejected, key=lambda r: r.position)[-REFUSED_KEPT:]
    source.refused = [*source.refused, *({"position": r.position, **reasons.stored(r.reason)} for r in latest)
                      ][-REFUSED_KEPT:]
    source.refused_count += len(rejected)


PULL_LEASE = timedelta(minutes=10)  # a pull holds its source this long at most (its worker may have died)


def claim_pull(source_id: int) -> datetime | None:
    """Hold an active source for one pull (``tasks.pull_source``): the time of the hold, or None when another
    pull holds it (and less than PULL_LEASE ago) or the source is paused or gone. One conditional UPDATE."""
    now = timezone.now()
    claimed = ListeningSource.objects.filter(pk=source_id, active=True).filter(
        Q(pull_started_at__isnull=True) | Q(pull_started_at__lt=now - PULL_LEASE)).update(pull_started_at=now)
    return now if claimed else None


class PullSuperseded(Exception):
    """A pull's hold on its source lapsed (it ran past PULL_LEASE without storing anything) and another pull
    took the source: this one stops, its last batch rolled back, and leaves the source to the other."""


def _renew_pull(source: ListeningSource) -> None:
    """A pull renews its hold with each batch it stores (in the batch's transaction), so a long pull of a large
    file keeps its source; a hold another pull took since (ours lapsed) stops this pull before it writes."""
    held = source.pull_hold
    if held is None:  # an import or a replay, which holds no lease
        return
    now = timezone.now()
    if not ListeningSource.objects.filter(pk=source.pk, pull_started_at=held).update(pull_started_at=now):
        raise PullSuperseded(f"listening source {source.pk}: another pull took it")
    source.pull_hold = now


def release_pull(source_id: int, started: datetime | None = None) -> None:
    """Let go of a pull's hold on its source: the hold taken at ``started`` (not a later pull's), or any."""
    held = ListeningSource.objects.filter(pk=source_id)
    (held if started is None else held.filter(pull_started_at=started)).update(pull_started_at=None)


def forget_refused(source: ListeningSource) -> None:
    """A file read again from its first line (``listen replay``): its refused lines are that reading's."""
    ListeningSource.objects.filter(pk=source.pk).update(refused=[], refused_count=0)
    source.refused, source.refused_count = [], 0


@transaction.atomic
def record_pull_error(source: ListeningSource, message: str, *, permanent: bool, pulled: bool = True,
                      said: reasons.Reason | None = None) -> None:
    """Keep a pull's error on the source for the UI; a permanent one pauses it until someone looks. ``pulled``:
    the pull counts as done (the platform answered, with an error), so the next is at the source's interval;
    else the scheduler tries again at its next round. ``message`` is kept as it is (English: the API, the logs);
    ``said``, or ``message`` when it is a ``reasons.Reason``, with its template too, so the pages say it in the
    reader's language."""
    source.last_error = str(message)[:2000]
    kept = said if said is not None else message
    source.last_error_kept = reasons.stored(kept) if isinstance(kept, reasons.Reason) else {}
    fields = ["last_error", "last_error_kept"]
    if pulled:
        source.last_pulled_at = timezone.now()
        fields.append("last_pulled_at")
    if permanent:
        source.active = False
        fields.append("active")
    source.save(update_fields=fields)
    if permanent:
        ledger.append(None, "listening.source_paused", obj=source, unit=source.unit, payload={"error": message})


def record_import_started(actor: Person | None, source: ListeningSource, filename: str) -> None:
    """The ledger's record that a replay or import of a file began (``record_import`` says how it ended)."""
    with transaction.atomic():
        ledger.append(actor, "listening.import_started", obj=source, unit=source.unit, payload={"file": filename})


def record_import(actor: Person | None, source: ListeningSource, filename: str, result: IngestResult) -> None:
    """One ledger record for a whole replay or import."""
    with transaction.atomic():
        ledger.append(actor, "listening.imported", obj=source, unit=source.unit, payload={
            "file": filename, "received": result.received, "stored": result.stored,
            "duplicates": result.duplicates, "rejected": len(result.rejected),
        })


# Saved searches


@transaction.atomic
def save_search(actor: Person, *, unit: Unit, name: str, params: Mapping[str, str]) -> SavedSearch:
    """Keep a named search (query and filters) for oneself on a unit; replaces one of the same name."""
    require(actor, Action.LISTENING_VIEW, unit)
    name = without_nul(name).strip()[:200]  # PostgreSQL takes no NUL in a string
    params = {str(key): without_nul(str(value)) for key, value in params.items()}
    if not name:
        raise ValidationError({"name": _("give the search a name")})
    if not all(encodable(text) for pair in params.items() for text in pair):
        raise ValidationError({"params": _("holds a character that is not text (a lone surrogate)")})
    for moment in ("since", "until"):  # kept only if it can be searched by later
        try:
            parse_moment(params.get(moment, "").strip(), end_of_day=moment == "until")
        except ValueError as exc:
            raise ValidationError({"params": f"{moment}: {exc}"}) from None
    saved, created = SavedSearch.objects.update_or_create(owner=actor, unit=unit, name=name,
                                                          defaults={"params": dict(params)})
    ledger.append(actor, "listening.search_saved", obj=saved, unit=unit,
                  payload={"name": name, "params": dict(params), "replaced": not created})
    saved.replaced = not created
    return saved


@transaction.atomic
def delete_saved_search(actor: Person, saved: SavedSearch) -> None:
    if saved.owner_id != actor.pk:
        require(actor, Action.LISTENING_MANAGE, saved.unit)
    if not SavedSearch.objects.select_for_update().filter(pk=saved.pk).exists():
        raise Http404("this search was deleted")
    ledger.append(actor, "listening.search_deleted", obj=saved, unit=saved.unit, payload={"name": saved.name})
    saved.delete()


# Alerts


def alert_recipients(unit: Unit) -> list[str]:
    """Who is e-mailed an alert of the unit: the people with a role on it or, where nobody holds one there (a
    region, a department), on the nearest unit above that has people, who also see the unit's alerts."""
    for candidate in [unit, *reversed(list(unit.ancestors().exclude(pk=unit.pk)))]:
        people = Person.objects.filter(roles__unit=candidate, is_active=True).exclude(email="")
        emails = sorted(set(people.values_list("email", flat=True)))
        if emails:
            return emails
    return []


def raise_alert(*, unit: Unit, kind: str, key: str, message: str, count: int = 0, score: float | None = None,
                story: Story | None = None) -> Alert | None:
    """Record an alert once per (unit, kind, key) and e-mail the unit's people, each in their own interface
    language; None if it was already raised. ``message`` is the English wording the ledger keeps."""
    from legation.listening.tasks import email_alert_guard

    try:
        with transaction.atomic():
            alert = Alert.objects.create(unit=unit, unit_path=unit.path, kind=kind, key=key[:200],
                                         message=message[:500], count=count, score=score, story=story)
            ledger.append(None, "listening.alert_raised", obj=alert, unit=unit,
                          payload={"kind": kind, "key": key, "message": message, "count": count})
            # Queued with the alert, in its transaction: if this process dies before its first e-mail try ends
            # (a mail server that hangs, a kill), the worker sends it (an alert exists once, so nothing else
            # would).
            email_alert_guard.using(run_after=timezone.now() + ALERT_EMAIL_GUARD).enqueue(alert.pk)
    except IntegrityError:
        return None
    email_alert(alert, alert_recipients(unit))
    return alert


ALERT_EMAIL_GUARD = timedelta(minutes=10)  # longer than a first e-mail try can take (EMAIL_TIMEOUT per language)


ALERT_EMAIL_TRIES = 6  # the first as the alert is raised, then after 5, 10, 20, 40 and 80 minutes


def email_alert(alert: Alert, emails: Sequence[str], attempt: int = 1, *, guard: bool = False) -> int:
    """E-mail an alert to these people, each in their own interface language; return how many it reached.

    Those the mail server could not be reached for, or refused, are e-mailed again by the worker
    (``tasks.email_alert``), ALERT_EMAIL_TRIES times in all, waiting longer each time; then the failure is
    recorded on the ledger. An alert is never lost to a mail server that is down for an hour.

    The first try (``raise_alert``) keeps, group by group, whom it reached (``Alert.email_handled``) and stops
    if its guard (``tasks.email_alert_guard``, ``guard``) took over meanwhile: a first try that hangs or dies
    half-way leaves the guard only those it had not reached, so nobody is sent the alert twice, save the one
    language group that was being sent as the guard took over.
    """
    unit = alert.unit
    first = attempt == 1 and not guard
    languages = dict(Person.objects.filter(email__in=emails, is_active=True).values_list("email", "language"))
    by_language: dict[str, list[str]] = {}
    for email in emails:
        by_language.setdefault(languages.get(email) or settings.LANGUAGE_CODE, []).append(email)
    sent, failed, error, reached = 0, [], "", []
    for language, group in sorted(by_language.items()):
        if first and _guard_took_over(alert):
            return sent  # the guard took over: it e-mails (and retries) everyone this try has not reached
        with translation.override(language):
            text = alert.text
            try:
                delivered = send_mail(
                    subject=f"[Legation] {unit.name}: {text}"[:200],
                    message=_("%(alert)s\n\nUnit: %(unit)s\nSee %(url)s/listening/\n")
                    % {"alert": text, "unit": unit.name, "url": settings.SITE_URL},
                    from_email=None, recipient_list=group,
                )
            except OSError as exc:  # smtplib's errors are OSErrors, as a refused connection is
                failed += group
                error = f"{type(exc).__name__}: {exc}"[:500]
                continue
        if delivered:
            sent += len(group)
            reached += group
            Alert.objects.filter(pk=alert.pk).update(
                emailed_to=F("emailed_to") + len(group),
                **({"email_handled": reached} if first else {}))
    alert.refresh_from_db(fields=["emailed_to", "email_handled"])
    with transaction.atomic():  # the retries and the end of the first try, together
        # A first try the guard took over meanwhile leaves those it failed to the guard, which e-mails (and
        # retries) everyone the try did not reach: one chain of retries each, not two.
        owner = not first or bool(Alert.objects.filter(pk=alert.pk, email_tried_at__isnull=True).update(
            email_tried_at=timezone.now()))
        if failed and owner:
            logger.warning("alert %s: e-mail to %d people failed (try %d of %d): %s", alert.pk, len(failed),
                           attempt, ALERT_EMAIL_TRIES, error)
            if attempt < ALERT_EMAIL_TRIES:
                from legation.listening.tasks import email_alert as again

                wait = timedelta(minutes=5 * 2 ** (attempt - 1))
                again.using(run_after=timezone.now() + wait).enqueue(alert.pk, failed, attempt + 1)
            else:
                ledger.append(None, "listening.alert_email_failed", obj=alert, unit=unit,
                              payload={"to": failed, "tries": attempt, "error": error})
    return sent


def take_over_alert_email(alert_id: int) -> Alert | None:
    """The guard's claim on an alert whose first e-mail try has not ended (``tasks.email_alert_guard``): the
    alert, now marked tried so that the first try stops at its next language group; None if that try ended."""
    if not Alert.objects.filter(pk=alert_id, email_tried_at__isnull=True).update(email_tried_at=timezone.now()):
        return None
    return Alert.objects.select_related("unit", "story").get(pk=alert_id)


def _guard_took_over(alert: Alert) -> bool:
    """Whether an alert's guard has taken over its first e-mail try (``tasks.email_alert_guard``)."""
    return Alert.objects.filter(pk=alert.pk, email_tried_at__isnull=False).exists()


@transaction.atomic
def acknowledge_alert(actor: Person, alert: Alert) -> Alert:
    """Mark an alert as seen and handled; needs editor on its unit."""
    require(actor, Action.LISTENING_MANAGE, alert.unit)
    current = Alert.objects.select_for_update().filter(pk=alert.pk).first()
    if current is None:
        raise Http404("this alert was deleted")
    alert.acknowledged_at, alert.acknowledged_by_id = current.acknowledged_at, current.acknowledged_by_id
    if alert.acknowledged_at is None:  # acknowledged once: a second click (or request) changes nothing
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        ledger.append(actor, "listening.alert_acknowledged", obj=alert, unit=alert.unit,
                      payload={"message": alert.message})
    return alert


@transaction.atomic
def request_accurate_reading(actor: Person, item: ListenedItem) -> bool:
    """Ask the accurate tier to read a post again, in the worker (the web process never loads that tier). Anyone
    who may see the post may ask: it changes no words, only which models read them; the ledger says who asked, on
    the asker's own unit that heard the post (``as_seen_by``): a post another mission stored first tells that
    mission nothing of who else listens to it. False when an earlier request is still waiting for the worker
    (less than REREAD_PENDING ago, not read since): nothing is queued or recorded again."""
    if not visible_items(actor).filter(pk=item.pk).exists():
        raise PermissionDenied(_("this post was not heard in a unit you may view"))
    now = timezone.now()
    free = (Q(reread_requested_at__isnull=True) | Q(reread_requested_at__lt=now - REREAD_PENDING)
            | Q(read_accurately_at__gte=F("reread_requested_at")))
    if not ListenedItem.objects.filter(free, pk=item.pk).update(reread_requested_at=now):
        return False
    [seen] = as_seen_by(actor, [item])
    ledger.append(actor, "listening.item_reread_requested", obj=item, unit=seen.unit,
                  payload={"platform": item.platform, "external_id": item.external_id})
    from legation.listening.tasks import read_item_accurately

    read_item_accurately.enqueue(item.pk)  # the database queue commits it with the record
    return True


REREAD_PENDING = timedelta(minutes=10)  # a request not read after this long (a worker down) may be made again


def read_accurately(item: ListenedItem) -> bool:
    """Read one stored post again with the accurate tier (``tasks.read_item_accurately``): its language and
    reading are replaced; its story, duplicates and the alert counters it was counted in stay. False if the post
    has gone meanwhile."""
    [record] = enrich_batch([item.text], tier="accurate")
    fields = apply_reading(item, record)
    changes = {name: getattr(item, name) for name in fields}
    return bool(ListenedItem.objects.filter(pk=item.pk).update(
        **changes, language=record.language[:8], read_accurately_at=timezone.now()))
