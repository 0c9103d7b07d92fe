"""Every registered provider whose module exists imports, names itself, and implements what it declares."""

from __future__ import annotations

import importlib.util
import warnings

import pytest

from legation.connectors.base import Capability, Provider, ProviderConfig
from legation.connectors.registry import PLATFORM_CHOICES, PROVIDERS, UnknownPlatform, provider_class

# Which methods a declared capability needs overridden (any one of them for METRICS).
CAPABILITY_METHODS: dict[Capability, tuple[str, ...]] = {
    Capability.PUBLISH: ("publish",),
    Capability.REPLY: ("publish",),
    Capability.EDIT: ("edit",),
    Capability.DELETE: ("delete",),
    Capability.PULL_MENTIONS: ("pull_mentions",),
    Capability.SEARCH: ("search",),
    Capability.PULL_MESSAGES: ("pull_messages",),
    Capability.SEND_MESSAGE: ("send_message",),
    Capability.PULL_TIMELINE: ("pull_timeline",),
    Capability.PULL_ACCOUNT: ("pull_account",),
    Capability.METRICS: ("post_metrics", "account_metrics"),
    Capability.WEBHOOK: ("parse_webhook",),
    Capability.REFRESH_TOKEN: ("refresh_token",),
}


def _module_exists(dotted: str) -> bool:
    module = dotted.rpartition(".")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


EXISTING = sorted(key for key, (_name, dotted) in PROVIDERS.items() if _module_exists(dotted))
MISSING = sorted(set(PROVIDERS) - set(EXISTING))


def test_some_providers_exist_and_the_missing_ones_are_listed():
    assert EXISTING, "no provider module exists at all"
    assert {"mastodon", "bluesky", "rss"} <= set(EXISTING)
    if MISSING:
        warnings.warn(f"registered providers without a module yet: {', '.join(MISSING)}", stacklevel=1)


def test_every_capability_has_a_method_rule():
    assert set(CAPABILITY_METHODS) == set(Capability)


@pytest.mark.parametrize("key", EXISTING)
def test_provider_imports_and_names_itself(key):
    cls = provider_class(key)
    assert issubclass(cls, Provider)
    assert cls.key == key
    assert cls.name
    assert issubclass(cls.config_model, ProviderConfig)
    assert cls.capabilities, f"{key} declares no capability"


@pytest.mark.parametrize("key", EXISTING)
def test_declared_capabilities_are_implemented(key):
    cls = provider_class(key)
    missing = [
        capability.value
        for capability in cls.capabilities
        if not any(getattr(cls, m) is not getattr(Provider, m) for m in CAPABILITY_METHODS[capability])
    ]
    assert missing == [], f"{key} declares {missing} without overriding the methods"


def test_registry_keys_are_the_platform_choices():
    assert [key for key, _ in PLATFORM_CHOICES] == list(PROVIDERS)
    with pytest.raises(UnknownPlatform):
        provider_class("myspace")


def test_every_registered_provider_is_listed_in_the_connectors_readme():
    from pathlib import Path

    readme = Path(__file__).resolve().parents[3] / "docs" / "connectors" / "README.md"
    text = readme.read_text()
    assert [key for key in PROVIDERS if f"| `{key}` |" not in text] == []
