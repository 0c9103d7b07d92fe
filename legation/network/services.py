"""Every write to the network (units, people, roles, accounts, credentials, tokens) goes through here.

Each service checks the actor's role on the unit, writes the change and appends one ledger record, in one
transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from legation.connectors.registry import PROVIDERS
from legation.network import vault
from legation.network.models import (
    AccountStatus,
    ApiToken,
    Credential,
    Handover,
    OfficialAccount,
    Person,
    Role,
    RoleName,
    Unit,
    UnitKind,
)
from legation.network.permissions import Action, forget_roles, may, require
from legation.records import ledger

UNIT_FIELDS = ("name", "kind", "country", "languages", "time_zone")
API_TOKEN_PREFIX = "lgn_"  # noqa: S105 - a visible prefix, not a secret


def _clean(instance: Any, exclude: list[str] | None = None) -> None:
    instance.full_clean(exclude=exclude, validate_unique=True)


# Units


@transaction.atomic
def create_root_unit(*, name: str, country: str = "", languages: list[str] | None = None,
                     time_zone: str = "UTC", actor: Person | None = None) -> Unit:
    """Create the ministry at the top of the tree; only at set-up, by an operator or a superuser."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("only a superuser may create the top of the tree"))
    if Unit.objects.filter(parent__isnull=True).exists():
        raise ValidationError({"parent": _("the tree already has a top unit")})
    unit = Unit(name=name, kind=UnitKind.MINISTRY, country=country.upper(), languages=languages or [],
                time_zone=time_zone)
    _clean(unit, exclude=["path", "parent"])
    unit.save()
    unit.path = f"/{unit.pk}/"
    unit.save(update_fields=["path"])
    ledger.append(actor, "unit.created", obj=unit, unit=unit, payload={"name": name, "kind": unit.kind})
    return unit


@transaction.atomic
def create_unit(actor: Person, *, parent: Unit, name: str, kind: str, country: str = "",
                languages: list[str] | None = None, time_zone: str = "UTC") -> Unit:
    """Create a unit below ``parent``; needs admin on the parent."""
    require(actor, Action.UNIT_CREATE, parent)
    if kind == UnitKind.MINISTRY:
        raise ValidationError({"kind": _("only the top of the tree is a ministry")})
    unit = Unit(parent=parent, name=name, kind=kind, country=country.upper(), languages=languages or [],
                time_zone=time_zone)
    _clean(unit, exclude=["path"])
    unit.save()
    unit.path = f"{parent.path}{unit.pk}/"
    unit.save(update_fields=["path"])
    ledger.append(actor, "unit.created", obj=unit, unit=unit,
                  payload={"name": name, "kind": kind, "parent": parent.pk, "country": unit.country,
                           "languages": unit.languages, "time_zone": time_zone})
    return unit


@transaction.atomic
def update_unit(actor: Person, unit: Unit, **changes: Any) -> Unit:
    """Change a unit's name, kind, country, languages or time zone; needs admin on it."""
    require(actor, Action.UNIT_UPDATE, unit)
    unknown = set(changes) - set(UNIT_FIELDS)
    if unknown:
        raise ValidationError({name: _("cannot be changed here") for name in unknown})
    before = {name: getattr(unit, name) for name in changes}
    for name, value in changes.items():
        setattr(unit, name, value.upper() if name == "country" else value)
    _clean(unit, exclude=["path"])
    unit.save()
    ledger.append(actor, "unit.updated", obj=unit, unit=unit,
                  payload={"before": before, "after": {name: getattr(unit, name) for name in changes}})
    return unit


@transaction.atomic
def set_unit_2fa(actor: Person, unit: Unit, required: bool) -> Unit:
    """Require (or stop requiring) two-factor authentication for everyone with a role here or below."""
    require(actor, Action.UNIT_SECURITY, unit)
    unit.require_2fa = required
    unit.save(update_fields=["require_2fa"])
    ledger.append(actor, "unit.2fa_required" if required else "unit.2fa_not_required", obj=unit, unit=unit)
    return unit


def requires_2fa(person: Person) -> bool:
    """True when any unit where the person holds a role, or a unit above it, requires two-factor sign-in."""
    paths = list(person.roles.values_list("unit__path", flat=True))
    ids = {int(part) for path in paths for part in path.strip("/").split("/") if part}
    return Unit.objects.filter(id__in=ids, require_2fa=True).exists()


# People and roles


@transaction.atomic
def create_person(actor: Person, *, unit: Unit, username: str, role: str, email: str = "",
                  display_name: str = "", password: str | None = None, language: str = "") -> Person:
    """Add a person with a role on ``unit``; needs admin there. Without a password, they cannot sign in yet."""
    require(actor, Action.PEOPLE_MANAGE, unit)
    person = Person(username=username, email=email, display_name=display_name, language=language)
    if password:
        validate_password(password, person)
        person.set_password(password)
    else:
        person.set_unusable_password()
    _clean(person, exclude=["password"])
    person.save()
    _grant(actor, person, unit, role)
    ledger.append(actor, "person.created", obj=person, unit=unit,
                  payload={"username": username, "email": email, "display_name": display_name})
    return person


def _grant(actor: Person, person: Person, unit: Unit, role: str) -> Role:
    if role not in RoleName.values:
        raise ValidationError({"role": _("unknown role '%(role)s'; one of %(roles)s")
                               % {"role": role, "roles": ", ".join(RoleName.values)}})
    obj, created = Role.objects.update_or_create(person=person, unit=unit,
                                                 defaults={"role": role, "granted_by": actor})
    forget_roles(person)
    ledger.append(actor, "role.granted", obj=obj, unit=unit,
                  payload={"person": person.username, "role": role, "replaced": not created})
    return obj


@transaction.atomic
def grant_role(actor: Person, *, person: Person, unit: Unit, role: str) -> Role:
    """Give a person a role on a unit (replacing any role they held on that same unit); needs admin there."""
    require(actor, Action.PEOPLE_MANAGE, unit)
    return _grant(actor, person, unit, role)


@transaction.atomic
def revoke_role(actor: Person, role: Role) -> None:
    """Remove a role; needs admin on its unit."""
    require(actor, Action.PEOPLE_MANAGE, role.unit)
    person, unit, name = role.person, role.unit, role.role
    role_id = role.pk
    role.delete()
    forget_roles(person)
    ledger.append(actor, "role.revoked", unit=unit, object_type="network.role", object_id=str(role_id),
                  payload={"person": person.username, "role": name})


@transaction.atomic
def set_password(actor: Person, person: Person, password: str) -> None:
    """A person sets their own password (or an admin of one of their units sets it)."""
    if actor.pk != person.pk:
        units = [role.unit for role in person.roles.select_related("unit")]
        if not units or not all(may(actor, Action.PEOPLE_MANAGE, unit) for unit in units):
            raise PermissionDenied(_("only the person or an admin over all their units may set the password"))
    validate_password(password, person)
    person.set_password(password)
    person.save(update_fields=["password"])
    ledger.append(actor, "person.password_set", obj=person, payload={"person": person.username})


@transaction.atomic
def set_language(actor: Person, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("unsupported language '%(language)s'") % {"language": language}})
    actor.language = language
    actor.save(update_fields=["language"])
    ledger.append(actor, "person.language_set", obj=actor, payload={"language": language})


# Two-factor authentication


@transaction.atomic
def start_totp_enrolment(actor: Person) -> Any:
    """Create (or reuse) an unconfirmed TOTP device for the person and return it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=actor, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=actor, name="authenticator", confirmed=False)
    return device


@transaction.atomic
def confirm_totp_enrolment(actor: Person, token: str) -> bool:
    """Confirm the pending device when the token is right; record it on the ledger."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=actor, confirmed=False).first()
    if device is None or not device.verify_token(token.strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=actor, confirmed=True).exclude(pk=device.pk).delete()
    ledger.append(actor, "person.2fa_enrolled", obj=actor, payload={"device": "totp"})
    return True


# Official accounts


def _require_platform(platform: str) -> None:
    if platform not in PROVIDERS:
        raise ValidationError({"platform": _("unknown platform '%(platform)s'; one of %(platforms)s")
                               % {"platform": platform, "platforms": ", ".join(PROVIDERS)}})


@transaction.atomic
def register_account(actor: Person, *, unit: Unit, platform: str, handle: str, position: str = "",
                     display_name: str = "", config: Mapping[str, Any] | None = None,
                     holder: Person | None = None) -> OfficialAccount:
    """Register an official account for a unit; it stays pending until a second admin approves it."""
    require(actor, Action.ACCOUNT_REGISTER, unit)
    _require_platform(platform)
    handle = handle.strip()
    if not handle:
        raise ValidationError({"handle": _("a handle is required")})
    if OfficialAccount.objects.filter(platform=platform, handle__iexact=handle).exists():
        raise ValidationError({"handle": _("%(handle)s on %(platform)s is already in the registry")
                               % {"handle": handle, "platform": platform}})
    account = OfficialAccount(unit=unit, platform=platform, handle=handle, position=position,
                              display_name=display_name, config=dict(config or {}), holder=holder,
                              created_by=actor, status=AccountStatus.PENDING)
    if account.config:  # registration may come before the platform settings; they are checked when given
        _validate_config(account)
    _clean(account, exclude=["created_by", "approved_by", "holder", "last_error"])
    account.save()
    ledger.append(actor, "account.registered", obj=account, unit=unit,
                  payload={"platform": platform, "handle": handle, "position": position})
    return account


def _validate_config(account: OfficialAccount) -> None:
    from legation.connectors.base import ConfigError
    from legation.connectors.registry import provider_class

    try:
        cls = provider_class(account.platform)
    except ImportError:
        return  # the provider's package is not installed here; its config is checked when it is used
    try:
        cls.parse_config(account.config)
    except ConfigError as exc:
        raise ValidationError({"config": exc.message}) from exc


@transaction.atomic
def configure_account(actor: Person, account: OfficialAccount, config: Mapping[str, Any]) -> OfficialAccount:
    """Replace the account's platform settings, validated by its provider's typed config."""
    require(actor, Action.ACCOUNT_MANAGE, account.unit)
    account.config = dict(config)
    _validate_config(account)
    account.save(update_fields=["config"])
    ledger.append(actor, "account.configured", obj=account, unit=account.unit, payload={"config": account.config})
    return account


@transaction.atomic
def approve_account(actor: Person, account: OfficialAccount) -> OfficialAccount:
    """Four eyes: an admin other than the one who registered it approves the account."""
    require(actor, Action.ACCOUNT_APPROVE, account.unit)
    if account.created_by_id == actor.pk:
        raise PermissionDenied(_("the person who registered an account cannot approve it"))
    if account.status != AccountStatus.PENDING:
        raise ValidationError({"status": _("only a pending account can be approved (this one is %(status)s)")
                               % {"status": account.get_status_display()}})
    account.status = AccountStatus.ACTIVE
    account.approved_by = actor
    account.approved_at = timezone.now()
    account.save(update_fields=["status", "approved_by", "approved_at"])
    ledger.append(actor, "account.approved", obj=account, unit=account.unit)
    return account


@transaction.atomic
def set_credentials(actor: Person, account: OfficialAccount, secrets_by_name: Mapping[str, str]) -> None:
    """Store secrets for an account, encrypted; the ledger names which secrets changed, never their values."""
    require(actor, Action.ACCOUNT_MANAGE, account.unit)
    if account.status == AccountStatus.LOCKED:
        raise ValidationError({"status": _("a locked account takes no credentials until it is unlocked")})
    for name, value in secrets_by_name.items():
        if not name or not value:
            raise ValidationError({name or "name": _("a credential needs a name and a value")})
        Credential.objects.update_or_create(
            account=account, name=name,
            defaults={"ciphertext": vault.encrypt(value), "hint": vault.hint(value), "updated_by": actor},
        )
    ledger.append(actor, "account.credentials_set", obj=account, unit=account.unit,
                  payload={"names": sorted(secrets_by_name)})


def read_credentials(account: OfficialAccount) -> dict[str, str]:
    """Decrypt an account's secrets for a connector call; never for display."""
    return {cred.name: vault.decrypt(cred.ciphertext) for cred in account.credentials.all()}


@transaction.atomic
def handover_account(actor: Person, account: OfficialAccount, *, to_holder: Person | None,
                     note: str = "") -> Handover:
    """Pass an account to the next holder of its position."""
    require(actor, Action.ACCOUNT_MANAGE, account.unit)
    handover = Handover.objects.create(account=account, from_holder=account.holder, to_holder=to_holder,
                                       note=note, by=actor)
    account.holder = to_holder
    account.save(update_fields=["holder"])
    ledger.append(actor, "account.handed_over", obj=account, unit=account.unit,
                  payload={"from": handover.from_holder.username if handover.from_holder else None,
                           "to": to_holder.username if to_holder else None, "note": note})
    return handover


@transaction.atomic
def lock_account(actor: Person, account: OfficialAccount, *, reason: str) -> OfficialAccount:
    """Lock a compromised account network-wide: status locked and its tokens removed from the vault."""
    require(actor, Action.ACCOUNT_LOCK, account.unit)
    if not reason.strip():
        raise ValidationError({"reason": _("say why the account is locked")})
    removed = sorted(account.credentials.values_list("name", flat=True))
    account.credentials.all().delete()
    account.status = AccountStatus.LOCKED
    account.save(update_fields=["status"])
    ledger.append(actor, "account.locked", obj=account, unit=account.unit,
                  payload={"reason": reason, "credentials_removed": removed})
    return account


@transaction.atomic
def set_account_status(actor: Person, account: OfficialAccount, status: str, *, note: str = "") -> OfficialAccount:
    """Suspend or reactivate an account; unlocking (locked → active) needs admin where the lock was decided."""
    require(actor, Action.ACCOUNT_MANAGE, account.unit)
    if status not in (AccountStatus.ACTIVE, AccountStatus.SUSPENDED):
        raise ValidationError({"status": _("an account can be set active or suspended here")})
    if account.status == AccountStatus.PENDING:
        raise ValidationError({"status": _("a pending account must be approved first")})
    before = account.status
    account.status = status
    if status == AccountStatus.ACTIVE:
        account.last_error = ""
    account.save(update_fields=["status", "last_error"])
    ledger.append(actor, "account.status_changed", obj=account, unit=account.unit,
                  payload={"before": before, "after": status, "note": note})
    return account


@transaction.atomic
def record_account_error(account: OfficialAccount, message: str, *, permanent: bool) -> None:
    """A connector reported a failure; a permanent one suspends the account and is shown to its admins."""
    account.last_error = message[:2000]
    account.last_error_at = timezone.now()
    fields = ["last_error", "last_error_at"]
    if permanent and account.status == AccountStatus.ACTIVE:
        account.status = AccountStatus.SUSPENDED
        fields.append("status")
    account.save(update_fields=fields)
    ledger.append(None, "account.error", obj=account, unit=account.unit,
                  payload={"message": message[:2000], "permanent": permanent})


# API tokens


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def create_api_token(actor: Person, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token; the plain token is returned once and never stored."""
    if not name.strip():
        raise ValidationError({"name": _("give the token a name")})
    plain = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(person=actor, name=name.strip(), prefix=plain[:12], digest=_digest(plain))
    ledger.append(actor, "api_token.created", obj=token, payload={"name": token.name, "prefix": token.prefix})
    return token, plain


@transaction.atomic
def revoke_api_token(actor: Person, token: ApiToken) -> None:
    if token.person_id != actor.pk:
        raise PermissionDenied(_("only the token's owner may revoke it"))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    ledger.append(actor, "api_token.revoked", obj=token, payload={"name": token.name, "prefix": token.prefix})


def person_for_token(plain: str) -> Person | None:
    """The active person a presented token belongs to, or None."""
    token = (ApiToken.objects.select_related("person")
             .filter(digest=_digest(plain), revoked_at__isnull=True).first())
    if token is None or not token.person.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.person


# The vault's key


@transaction.atomic
def rotate_vault_key() -> int:
    """Re-encrypt every credential under a new key; return how many were re-encrypted.

    With a key-ring file, a new key is generated and the old ones are dropped once everything is re-encrypted.
    With keys from the environment, the first key there is the new one: the operator removes the old ones after.
    """
    old_keys = vault.load_keys()
    using_file = not settings.VAULT_KEYS_ENV
    keys = [Fernet.generate_key(), *old_keys] if using_file else old_keys
    if using_file:
        vault.write_keyring(keys)
    fernet = MultiFernet([Fernet(key) for key in keys])
    creds = list(Credential.objects.select_for_update())
    for cred in creds:
        cred.ciphertext = fernet.rotate(cred.ciphertext.encode("ascii")).decode("ascii")
    Credential.objects.bulk_update(creds, ["ciphertext"], batch_size=500)
    ledger.append("operator", "vault.key_rotated", payload={"credentials": len(creds)})
    if using_file:
        transaction.on_commit(lambda: vault.write_keyring(keys[:1]))
    return len(creds)


@transaction.atomic
def create_first_admin(*, unit: Unit, username: str, password: str, email: str = "",
                       display_name: str = "") -> Person:
    """Set-up only: the first admin of a tree that has none yet (``legation bootstrap``, ``legation demo``)."""
    if Role.objects.filter(role=RoleName.ADMIN).exists():
        raise PermissionDenied(_("the network already has an admin; ask them to add people"))
    person = Person(username=username, email=email, display_name=display_name)
    validate_password(password, person)
    person.set_password(password)
    _clean(person, exclude=["password"])
    person.save()
    role = Role.objects.create(person=person, unit=unit, role=RoleName.ADMIN)
    ledger.append("operator", "person.created", obj=person, unit=unit, payload={"username": username})
    ledger.append("operator", "role.granted", obj=role, unit=unit,
                  payload={"person": username, "role": RoleName.ADMIN, "replaced": False})
    return person


@transaction.atomic
def store_refreshed_credentials(account: OfficialAccount, secrets_by_name: Mapping[str, str]) -> None:
    """A platform issued fresh tokens (a refresh): store them encrypted; the ledger names which."""
    for name, value in secrets_by_name.items():
        if not value:
            continue
        Credential.objects.update_or_create(
            account=account, name=name,
            defaults={"ciphertext": vault.encrypt(value), "hint": vault.hint(value), "updated_by": None},
        )
    ledger.append(None, "account.token_refreshed", obj=account, unit=account.unit,
                  payload={"names": sorted(secrets_by_name)})


@transaction.atomic
def record_learned_config(account: OfficialAccount, learned: Mapping[str, Any]) -> None:
    """Settings a platform told us (the account's own id): added to the account's config, never overwriting."""
    fresh = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    additions = {key: value for key, value in learned.items() if not fresh.config.get(key)}
    if not additions:
        return
    fresh.config = {**fresh.config, **additions}
    fresh.save(update_fields=["config"])
    account.config = fresh.config
    ledger.append(None, "account.config_learned", obj=fresh, unit=fresh.unit, payload={"learned": additions})
