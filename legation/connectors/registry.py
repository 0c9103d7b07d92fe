"""The string-keyed registry of providers, imported lazily; its keys double as the account model's choices."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legation.connectors.base import Provider


def gettext_noop(name: str) -> str:
    """Mark a name for translation without importing Django (connectors never do): `makemessages` finds the
    names by this function's name, and Django's side shows them translated (``network.models.PLATFORM_CHOICES``)."""
    return name


# key -> (human name, dotted path of the Provider class)
PROVIDERS: dict[str, tuple[str, str]] = {
    "sandbox": (gettext_noop("Sandbox"), "legation.connectors.sandbox.provider.SandboxProvider"),
    "x": ("X", "legation.connectors.x.provider.XProvider"),
    "facebook": (gettext_noop("Facebook Page"), "legation.connectors.facebook.provider.FacebookProvider"),
    "instagram": ("Instagram", "legation.connectors.facebook.instagram.InstagramProvider"),
    "youtube": ("YouTube", "legation.connectors.youtube.provider.YouTubeProvider"),
    "bluesky": ("Bluesky", "legation.connectors.bluesky.provider.BlueskyProvider"),
    "mastodon": ("Mastodon", "legation.connectors.mastodon.provider.MastodonProvider"),
    "telegram": ("Telegram", "legation.connectors.telegram.provider.TelegramProvider"),
    "flickr": ("Flickr", "legation.connectors.flickr.provider.FlickrProvider"),
    "tumblr": ("Tumblr", "legation.connectors.tumblr.provider.TumblrProvider"),
    "twilio": (gettext_noop("SMS (Twilio)"), "legation.connectors.sms.twilio.TwilioProvider"),
    "kannel": (gettext_noop("SMS (Kannel gateway)"), "legation.connectors.sms.kannel.KannelProvider"),
    "email": (gettext_noop("E-mail"), "legation.connectors.email.provider.EmailProvider"),
    "rss": (gettext_noop("RSS / Atom feed"), "legation.connectors.rss.provider.FeedProvider"),
}

# The names as the registry gives them, in English; the models and forms use network.models.PLATFORM_CHOICES.
PLATFORM_CHOICES: list[tuple[str, str]] = [(key, name) for key, (name, _path) in PROVIDERS.items()]


class UnknownPlatform(LookupError):
    pass


def provider_class(key: str) -> type[Provider]:
    """Import and return the provider class registered under ``key``."""
    try:
        _name, dotted = PROVIDERS[key]
    except KeyError:
        raise UnknownPlatform(f"unknown platform '{key}'") from None
    module_path, _, attr = dotted.rpartition(".")
    cls: type[Provider] = getattr(import_module(module_path), attr)
    return cls
