"""The string-keyed registry of providers, imported lazily; its keys double as the account model's choices."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legation.connectors.base import Provider

# key -> (human name, dotted path of the Provider class)
PROVIDERS: dict[str, tuple[str, str]] = {
    "sandbox": ("Sandbox", "legation.connectors.sandbox.provider.SandboxProvider"),
    "x": ("X", "legation.connectors.x.provider.XProvider"),
    "facebook": ("Facebook Page", "legation.connectors.facebook.provider.FacebookProvider"),
    "instagram": ("Instagram", "legation.connectors.facebook.instagram.InstagramProvider"),
    "youtube": ("YouTube", "legation.connectors.youtube.provider.YouTubeProvider"),
    "bluesky": ("Bluesky", "legation.connectors.bluesky.provider.BlueskyProvider"),
    "mastodon": ("Mastodon", "legation.connectors.mastodon.provider.MastodonProvider"),
    "telegram": ("Telegram", "legation.connectors.telegram.provider.TelegramProvider"),
    "flickr": ("Flickr", "legation.connectors.flickr.provider.FlickrProvider"),
    "tumblr": ("Tumblr", "legation.connectors.tumblr.provider.TumblrProvider"),
    "twilio": ("SMS (Twilio)", "legation.connectors.sms.twilio.TwilioProvider"),
    "kannel": ("SMS (Kannel gateway)", "legation.connectors.sms.kannel.KannelProvider"),
    "email": ("E-mail", "legation.connectors.email.provider.EmailProvider"),
    "rss": ("RSS / Atom feed", "legation.connectors.rss.provider.FeedProvider"),
}

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
