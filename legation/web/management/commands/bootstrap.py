"""``legation bootstrap``: create the top of the tree and its first admin on a new installation."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from legation.network import services


class Command(BaseCommand):
    help = "Create the ministry (top unit) and its first admin."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--ministry", required=True, help="name of the ministry")
        parser.add_argument("--country", default="")
        parser.add_argument("--admin", required=True, help="username of the first admin")
        parser.add_argument("--email", default="")
        parser.add_argument("--password-file", help="read the admin's password from this file")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["password_file"]:
            with open(options["password_file"], encoding="utf-8") as handle:
                password = handle.read().strip()
        else:
            password = getpass.getpass("Password for the first admin: ")
        try:
            unit = services.create_root_unit(name=options["ministry"], country=options["country"])
            services.create_first_admin(unit=unit, username=options["admin"], password=password,
                                        email=options["email"])
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stdout.write(f"Created {unit.name} and its admin {options['admin']}.")
