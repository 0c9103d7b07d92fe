"""Background listening work: pull each source from its cursor, and the periodic sweep that finds due ones."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_tasks import task

from legation.listening import alerts, reasons, services
from legation.listening.ingest import minute_of, roll_up_counts
from legation.listening.models import COUNTS_KEPT, Alert, HeardCount, ListenedItem, ListeningSource
from legation.listening.pull import pull_source as pull_one
from legation.network.models import Unit
from legation.worker.periodic import periodic
from legation.worker.recovery import on_requeue

logger = logging.getLogger(__name__)


# The scheduler wakes once a minute and a pull's time is stamped as it ends: a source due every minute is
# pulled every minute, not every other one.
SCHEDULE_SLACK_S = 30


@on_requeue("legation.listening.tasks.pull_source")
def _release_source(source_id: int) -> None:
    """A pull queued again after its worker died or lost the database: its hold on the source goes first."""
    services.release_pull(source_id)


@task()
def pull_source(source_id: int) -> dict[str, int]:
    """Pull one source's next page, store it, then check the unit's alerts. One pull of a source at a time: a
    pull queued while another runs (two workers, a backed-up queue) does nothing (``busy``), so nothing is
    counted twice."""
    started = services.claim_pull(source_id)
    if started is None:
        return {"stored": 0, "busy": int(ListeningSource.objects.filter(pk=source_id, active=True).exists())}
    source = ListeningSource.objects.select_related("unit", "account").get(pk=source_id)
    source.pull_hold = started  # each batch stored renews the hold (``services._renew_pull``)
    try:
        result = pull_one(source)
    except services.PullSuperseded:
        logger.warning("listening source %s: its pull ran past its hold and another took it over", source_id)
        return {"stored": 0, "busy": 1}
    except Exception as exc:
        # Not the platform's error (those are kept by ``pull_one``) but ours: shown on the source, which is
        # pulled again at its next time (nothing was stored: the batch's transaction was rolled back).
        # Its time of pull is left as it was, so the scheduler tries again within a minute, not at the source's
        # next interval (an hour for some).
        logger.exception("listening source %s: pull failed", source_id)
        services.record_pull_error(source, reasons.Reason(gettext_noop(
            "the pull failed on our side (%(error)s); it is tried again within a minute, and the server's log has "
            "the details"), error=type(exc).__name__), permanent=False, pulled=False)
        raise
    finally:
        services.release_pull(source_id, source.pull_hold)
    if result.stored or result.heard_again:  # posts another unit stored first count for this one too
        alerts.evaluate(source.unit)
    return {"received": result.received, "stored": result.stored, "duplicates": result.duplicates,
            "rejected": len(result.rejected)}


@task()
def email_alert(alert_id: int, emails: list[str], attempt: int) -> int:
    """E-mail an alert again to those an earlier try did not reach (``services.email_alert``)."""
    alert = Alert.objects.select_related("unit", "story").filter(pk=alert_id).first()
    return 0 if alert is None else services.email_alert(alert, emails, attempt)


@task()
def email_alert_guard(alert_id: int) -> int:
    """Queued with each alert (``services.raise_alert``): if its first e-mail try has not ended (the process
    raising it died, or a mail server hangs), takes over from it and e-mails those it has not reached, retries
    included; otherwise does nothing."""
    alert = services.take_over_alert_email(alert_id)
    if alert is None:
        return 0
    reached = set(alert.email_handled)
    rest = [email for email in services.alert_recipients(alert.unit) if email not in reached]
    logger.warning("alert %s: its first e-mail try has not ended; e-mailing the %d people it did not reach",
                   alert_id, len(rest))
    return services.email_alert(alert, rest, guard=True)


@task()
def read_item_accurately(item_id: int) -> bool:
    """Read one listened post with the accurate tier, as a person asked (the worker loads that tier, not the web
    process); False if the post has gone since."""
    item = ListenedItem.objects.filter(pk=item_id).only("pk", "text").first()
    return item is not None and services.read_accurately(item)


@periodic(every=timedelta(minutes=1))
@task()
def pull_due_sources() -> list[int]:
    """Enqueue a pull for every active source whose interval has passed."""
    now = timezone.now()
    due = []
    for source in ListeningSource.objects.filter(active=True).filter(
            Q(pull_started_at__isnull=True) | Q(pull_started_at__lt=now - services.PULL_LEASE)).only(
            "pk", "pull_every", "last_pulled_at"):
        last = source.last_pulled_at
        # Compared in seconds, not as dates: no interval, however large, can overflow (and stop every source).
        if last is None or (now - last).total_seconds() >= source.pull_every * 60 - SCHEDULE_SLACK_S:
            due.append(source.pk)
    for source_id in due:
        pull_source.enqueue(source_id)
    return due


@periodic(every=timedelta(minutes=5))
@task()
def evaluate_recent_alerts() -> int:
    """Check the alerts of every unit that heard posts in the last hour, whatever stored them: a pull checks its
    unit as it ends, but a replay or import stopped half-way, or posts heard through a unit's other paths, would
    otherwise wait for that unit's next pull (or never alert, for a unit without a source pulled on a schedule).
    Returns how many units were checked; an alert is raised once (``alerts.evaluate``)."""
    since = minute_of(timezone.now() - timedelta(hours=1))
    paths = set(HeardCount.objects.filter(key="all", minute__gte=since).values_list("unit_path", flat=True))
    units = list(Unit.objects.filter(path__in=paths))
    for unit in units:
        alerts.evaluate(unit)
    return len(units)


@periodic(every=timedelta(hours=1))
@task()
def purge_old_counts() -> int:
    """Forget the alert counters of minutes older than COUNTS_KEPT (the posts themselves stay), and fold those
    older than the alerts' window (and an hour's margin) into hourly counters (``ingest.roll_up_counts``)."""
    now = timezone.now()
    oldest = minute_of(now - COUNTS_KEPT)
    deleted, _ = HeardCount.objects.filter(minute__lt=oldest).delete()
    before = minute_of(now - timedelta(hours=alerts.WINDOWS + 1))
    folded = roll_up_counts(oldest, before - before % 60)
    return deleted + folded
