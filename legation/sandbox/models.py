"""A small social network inside Legation, for the demo, for tests and for trying things safely.

It stands for the outside world: its members are embassies and members of the public, and what happens here is
not the ministry's own record (it is not on the ledger; what Legation does *to* it is).
"""

from __future__ import annotations

import secrets

from django.db import models


def new_token() -> str:
    return "sbx_" + secrets.token_urlsafe(24)


class Member(models.Model):
    handle = models.CharField(max_length=100, unique=True)  # "@VeridiaInEgypt"
    display_name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=32, blank=True, db_index=True)  # its SMS number, E.164
    token = models.CharField(max_length=64, unique=True, default=new_token)  # what an API client presents
    suspended = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["handle"]

    def __str__(self) -> str:
        return self.handle


class Post(models.Model):
    author = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="posts")
    text = models.TextField()
    alt_texts = models.JSONField(default=list, blank=True)  # one per attached image
    link = models.URLField(max_length=1000, blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies")
    repost_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reposts")
    language = models.CharField(max_length=10, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    views = models.PositiveIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["author", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="sandbox_post_idempotent")
        ]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"


class Message(models.Model):
    """A direct message between two members."""

    sender = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="sent")
    recipient = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="received")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class Sms(models.Model):
    """A text message to or from a number in the sandbox."""

    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32, db_index=True)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
