"""Calling a platform for an official account: the provider, its decrypted credentials, and what failures mean.

A permanent failure (revoked token, suspended account) marks the account in the registry with the platform's
message and notifies the unit's admins; an expired token is refreshed once where the platform allows it; a
temporary failure is raised for the caller to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.mail import send_mass_mail

from legation.connectors.base import Capability, ConnectorError, Provider
from legation.connectors.registry import provider_class
from legation.network import services
from legation.network.models import AccountStatus, OfficialAccount, Person, Role, RoleName

T = TypeVar("T")
logger = logging.getLogger(__name__)


class AccountUnavailable(ConnectorError):
    """The account may not be used now (pending, suspended or locked)."""

    def __init__(self, account: OfficialAccount) -> None:
        super().__init__(f"{account} is {account.get_status_display().lower()}", permanent=True)


def provider_for(account: OfficialAccount) -> Provider:
    cls = provider_class(account.platform)
    return cls(account.config, services.read_credentials(account))


def unit_admins(account: OfficialAccount) -> list[Person]:
    """The admins of the account's unit and of every unit above it."""
    roles = Role.objects.filter(unit_id__in=account.unit.ancestor_ids(), role=RoleName.ADMIN).select_related("person")
    return [role.person for role in roles if role.person.is_active]


def notify_admins(account: OfficialAccount, subject: str, body: str) -> int:
    """E-mail the unit's admins; the home page shows the same alert to them in the app."""
    recipients = sorted({p.email for p in unit_admins(account) if p.email})
    if not recipients:
        return 0
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in recipients]
    try:
        return send_mass_mail(messages, fail_silently=False)
    except OSError:  # mail being down must not hide the failure itself, which is stored on the account
        logger.exception("could not e-mail the admins of %s", account)
        return 0


def _store_renewed(account: OfficialAccount, provider: Provider) -> None:
    renewed = getattr(provider, "renewed_credentials", None)
    if renewed:
        services.store_refreshed_credentials(account, dict(renewed))
        provider.renewed_credentials = None  # type: ignore[attr-defined]
    # A provider may learn a setting on the way (e.g. Mastodon looks up the account's own id): keep it, so the
    # next call does not spend a request (and rate limit) on it again.
    learned = {key: value for key, value in provider.config.model_dump(exclude_defaults=True).items()
               if value and not account.config.get(key)}
    if learned:
        services.record_learned_config(account, learned)


def call(account: OfficialAccount, operation: Callable[[Provider], T]) -> T:
    """Run ``operation`` with the account's provider, refreshing an expired token once."""
    if account.status != AccountStatus.ACTIVE:
        raise AccountUnavailable(account)
    provider = provider_for(account)
    try:
        try:
            result = operation(provider)
        except ConnectorError as exc:
            if not (exc.auth_expired and provider.supports(Capability.REFRESH_TOKEN)):
                raise
            tokens = provider.refresh_token()
            services.store_refreshed_credentials(account, dict(tokens.credentials))
            provider = provider_for(account)
            result = operation(provider)
        _store_renewed(account, provider)
        return result
    except ConnectorError as exc:
        _store_renewed(account, provider)
        if exc.permanent:
            services.record_account_error(account, exc.message, permanent=True)
            notify_admins(
                account,
                f"[Legation] {account} needs attention",
                f"{account} ({account.unit}) failed permanently and was suspended:\n\n{exc.message}\n\n"
                f"Open {settings.SITE_URL}/accounts/{account.pk}/ to fix it.",
            )
        raise
