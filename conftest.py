"""Shared fixtures: a small ministry tree and personas, built through the services like real use."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import pytest

# Tests never touch a developer's ./var: each run gets its own data directory unless one is given.
os.environ.setdefault("LEGATION_DATA_DIR", tempfile.mkdtemp(prefix="legation-test-"))
os.environ.setdefault("LEGATION_ALLOW_PRIVATE_HOSTS", "")


@dataclass
class Tree:
    ministry: object
    europe: object
    paris: object
    berlin: object
    asia: object
    jakarta: object


@pytest.fixture
def tree(db):
    from legation.network import services
    from legation.network.models import UnitKind

    ministry = services.create_root_unit(name="Ministry", country="VD", languages=["en"])
    alice = services.create_first_admin(unit=ministry, username="alice", password="alice-secret-pw-1")
    europe = services.create_unit(alice, parent=ministry, name="Europe", kind=UnitKind.REGION)
    paris = services.create_unit(alice, parent=europe, name="Embassy in Paris", kind=UnitKind.EMBASSY,
                                 country="FR", languages=["fr", "en"], time_zone="Europe/Paris")
    berlin = services.create_unit(alice, parent=europe, name="Embassy in Berlin", kind=UnitKind.EMBASSY,
                                  country="DE", languages=["de"], time_zone="Europe/Berlin")
    asia = services.create_unit(alice, parent=ministry, name="Asia", kind=UnitKind.REGION)
    jakarta = services.create_unit(alice, parent=asia, name="Embassy in Jakarta", kind=UnitKind.EMBASSY,
                                   country="ID", languages=["id"], time_zone="Asia/Jakarta")
    return Tree(ministry, europe, paris, berlin, asia, jakarta)


@pytest.fixture
def alice(tree):
    """Admin of the whole ministry."""
    from legation.network.models import Person

    return Person.objects.get(username="alice")


@pytest.fixture
def bob(tree, alice):
    """Publisher at the Paris embassy."""
    from legation.network import services

    return services.create_person(alice, unit=tree.paris, username="bob", role="publisher",
                                  password="bob-secret-pw-12")


@pytest.fixture
def charlie(tree, alice):
    """Admin at the Berlin embassy: an outsider to Paris."""
    from legation.network import services

    return services.create_person(alice, unit=tree.berlin, username="charlie", role="admin",
                                  password="charlie-secret-pw")


DB_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_site"}


@pytest.fixture
def token_for(db):
    """Headers that sign a request in with a fresh personal API token of ``person``."""
    from legation.network import services

    def make(person) -> dict[str, str]:
        _token, plain = services.create_api_token(person, "tests")
        return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}

    return make


@pytest.fixture(autouse=True)
def _back_to_english():
    """The API and the pages switch this thread to the person's language; every test starts in English."""
    yield
    from django.utils import translation

    translation.deactivate()


def pytest_collection_modifyitems(config, items):
    """With LEGATION_DB_TESTS_ONLY=1 (the PostgreSQL pass), keep only the tests that touch the database."""
    if os.environ.get("LEGATION_DB_TESTS_ONLY") != "1":
        return
    keep, drop = [], []
    for item in items:
        uses_db = DB_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("django_db")
        (keep if uses_db else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
