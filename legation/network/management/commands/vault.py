"""``legation vault rotate-key``: re-encrypt every stored credential under a new key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from legation.network.services import rotate_vault_key


class Command(BaseCommand):
    help = "Manage the credential vault's encryption key."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("rotate-key", help="generate a new key and re-encrypt every credential with it")

    def handle(self, *args: Any, **options: Any) -> None:
        count = rotate_vault_key()
        self.stdout.write(f"re-encrypted {count} credentials under the new key")
        if settings.VAULT_KEYS_ENV:
            self.stdout.write("keys come from LEGATION_VAULT_KEYS: remove every key but the first one from it now")
