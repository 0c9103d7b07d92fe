"""Credentials are encrypted at rest, never shown back, and survive a key rotation."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from legation.network import services, vault
from legation.network.models import Credential
from legation.records.models import Record


@pytest.fixture
def keyring(settings, tmp_path):
    settings.VAULT_KEYS_ENV = []
    settings.VAULT_KEYRING_PATH = tmp_path / "vault.keys"
    return settings.VAULT_KEYRING_PATH


@pytest.fixture
def account(tree, alice):
    second = services.create_person(alice, unit=tree.ministry, username="second", role="admin")
    account = services.register_account(alice, unit=tree.paris, platform="sandbox", handle="@VeridiaFR")
    return services.approve_account(second, account)


SECRET = "EAAB-very-secret-token-1234567890"


def test_secrets_are_encrypted_and_only_a_hint_is_kept(keyring, alice, account):
    services.set_credentials(alice, account, {"access_token": SECRET})
    stored = Credential.objects.get(account=account)
    assert SECRET not in stored.ciphertext
    assert stored.hint == "…7890"
    assert services.read_credentials(account) == {"access_token": SECRET}
    record = Record.objects.filter(action="account.credentials_set").latest("id")
    assert SECRET not in record.payload and "access_token" in record.payload
    assert SECRET not in repr(stored)


def test_rotation_re_encrypts_everything_and_drops_the_old_key(keyring, alice, account, capsys,
                                                               django_capture_on_commit_callbacks):
    services.set_credentials(alice, account, {"access_token": SECRET, "refresh_token": "r-" + SECRET})
    old_key = vault.load_keys()[0]
    old_cipher = Credential.objects.get(name="access_token").ciphertext
    with django_capture_on_commit_callbacks(execute=True):
        call_command("vault", "rotate-key")
    assert "re-encrypted 2 credentials" in capsys.readouterr().out
    keys = vault.load_keys()
    assert len(keys) == 1 and keys[0] != old_key
    assert Credential.objects.get(name="access_token").ciphertext != old_cipher
    assert services.read_credentials(account)["access_token"] == SECRET
    assert Record.objects.filter(action="vault.key_rotated").exists()


def test_a_ciphertext_from_another_key_is_refused(keyring, alice, account):
    services.set_credentials(alice, account, {"access_token": SECRET})
    vault.write_keyring([vault.Fernet.generate_key()])
    with pytest.raises(vault.VaultError, match="cannot be decrypted"):
        services.read_credentials(account)


def test_locking_removes_the_tokens(keyring, alice, account):
    services.set_credentials(alice, account, {"access_token": SECRET})
    services.lock_account(alice, account, reason="password leaked")
    account.refresh_from_db()
    assert account.status == "locked"
    assert not Credential.objects.filter(account=account).exists()
