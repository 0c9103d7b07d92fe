"""What members of the public do in the sandbox (post, reply, message an embassy, send an SMS)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from legation.sandbox.models import Member, Message, Post, Sms

HANDLE = re.compile(r"^@[A-Za-z0-9_]{2,30}$")
MAX_TEXT = 1000


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({"text": "write something first"})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": f"at most {MAX_TEXT} characters"})
    return text


@transaction.atomic
def join(handle: str, display_name: str = "", phone: str = "") -> Member:
    """A member of the public joins (or comes back as) ``handle``."""
    handle = handle.strip()
    if not handle.startswith("@"):
        handle = "@" + handle
    if not HANDLE.match(handle):
        raise ValidationError({"handle": "2 to 30 letters, digits or _ after the @"})
    member, _created = Member.objects.get_or_create(handle=handle, defaults={"display_name": display_name,
                                                                             "phone": phone})
    return member


@transaction.atomic
def official_member(handle: str, display_name: str = "", phone: str = "", token: str = "") -> Member:
    """The sandbox side of an official account (the demo and tests create these)."""
    defaults = {"display_name": display_name, "phone": phone}
    if token:
        defaults["token"] = token
    member, created = Member.objects.get_or_create(handle=handle, defaults=defaults)
    if not created and token and member.token != token:
        member.token = token
        member.save(update_fields=["token"])
    return member


@transaction.atomic
def post(member: Member, text: str, reply_to: Post | None = None) -> Post:
    return Post.objects.create(author=member, text=_text(text), reply_to=reply_to)


@transaction.atomic
def repost(member: Member, original: Post) -> Post:
    return Post.objects.create(author=member, text=original.text, repost_of=original)


@transaction.atomic
def like(original: Post) -> None:
    Post.objects.filter(pk=original.pk).update(likes=original.likes + 1)


@transaction.atomic
def message(member: Member, recipient: Member, text: str) -> Message:
    if recipient.pk == member.pk:
        raise ValidationError({"recipient": "choose someone else"})
    return Message.objects.create(sender=member, recipient=recipient, text=_text(text))


@transaction.atomic
def sms(from_number: str, to_number: str, text: str) -> Sms:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(from_number, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError({"from_number": "an international number, e.g. +218 91 234 5678"}) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError({"from_number": "that number is not possible"})
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return Sms.objects.create(from_number=e164, to_number=to_number, text=_text(text))


def connect_official_account(actor: object, account: object) -> Member:
    """Give a registered sandbox account its member on the sandbox network and store the token in the vault."""
    from legation.network import services as network_services
    from legation.network.models import OfficialAccount
    from legation.network.permissions import Action, require

    assert isinstance(account, OfficialAccount)
    require(actor, Action.ACCOUNT_MANAGE, account.unit)  # type: ignore[arg-type]
    if account.platform != "sandbox":
        raise ValidationError({"platform": "only sandbox accounts live on the sandbox network"})
    with transaction.atomic():
        member = official_member(account.handle, display_name=account.display_name or str(account.unit))
        network_services.set_credentials(actor, account, {"access_token": member.token})  # type: ignore[arg-type]
    return member
