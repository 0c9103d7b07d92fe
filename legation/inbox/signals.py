from __future__ import annotations

from django.dispatch import Signal

# Sent after a pull or webhook stored items: sender=None, account=OfficialAccount, stream=str, stored=int.
inbound_stored = Signal()
