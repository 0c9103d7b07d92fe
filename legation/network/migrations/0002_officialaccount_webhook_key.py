from __future__ import annotations

import secrets
from typing import Any

from django.db import migrations, models

import legation.network.models


def fill_keys(apps: Any, schema_editor: Any) -> None:
    OfficialAccount = apps.get_model("network", "OfficialAccount")
    for account in OfficialAccount.objects.filter(webhook_key__isnull=True):
        account.webhook_key = secrets.token_urlsafe(24)
        account.save(update_fields=["webhook_key"])


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="officialaccount", name="webhook_key",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="officialaccount", name="webhook_key",
            field=models.CharField(default=legation.network.models.new_webhook_key, editable=False, max_length=64,
                                   unique=True),
        ),
    ]
