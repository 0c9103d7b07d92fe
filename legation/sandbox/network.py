"""The sandbox's platform API, as its provider in legation/connectors/sandbox calls it.

Every call authenticates with a member's token, like a real platform's API, and fails with ConnectorError.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from legation.connectors.base import ConnectorError, Page
from legation.sandbox.models import Member, Message, Post, Sms

MAX_TEXT = 1000
HASHTAG = re.compile(r"#(\w+)", re.UNICODE)


def member_for(token: str) -> Member:
    member = Member.objects.filter(token=token).first()
    if member is None:
        raise ConnectorError("sandbox: invalid or revoked token", permanent=True, status=401)
    if member.suspended:
        raise ConnectorError(f"sandbox: {member.handle} is suspended", permanent=True, status=403)
    return member


def post_url(post: Post) -> str:
    return f"/sandbox/posts/{post.pk}/"


def create_post(token: str, text: str, *, reply_to: str | None = None, alt_texts: list[str] | None = None,
                link: str = "", language: str = "", idempotency_key: str = "") -> Post:
    """Publish as the token's member; the same idempotency key returns the post already made."""
    author = member_for(token)
    if not text.strip():
        raise ConnectorError("sandbox: text is empty", permanent=True, status=422)
    if len(text) > MAX_TEXT:
        raise ConnectorError(f"sandbox: text is {len(text)} characters, over {MAX_TEXT}", permanent=True,
                             status=422)
    if idempotency_key:
        existing = Post.objects.filter(author=author, idempotency_key=idempotency_key).first()
        if existing:
            return existing
    parent = None
    if reply_to:
        parent = Post.objects.filter(pk=int(reply_to), deleted_at__isnull=True).first()
        if parent is None:
            raise ConnectorError(f"sandbox: post {reply_to} to reply to does not exist", permanent=True, status=404)
    try:
        with transaction.atomic():
            return Post.objects.create(author=author, text=text, reply_to=parent, alt_texts=alt_texts or [],
                                       link=link, language=language, idempotency_key=idempotency_key)
    except IntegrityError:  # a concurrent call with the same key won
        return Post.objects.get(author=author, idempotency_key=idempotency_key)


def _own_post(token: str, post_id: str) -> Post:
    author = member_for(token)
    post = Post.objects.filter(pk=int(post_id), author=author).first()
    if post is None or post.deleted_at is not None:
        raise ConnectorError(f"sandbox: post {post_id} not found", permanent=True, status=404)
    return post


def edit_post(token: str, post_id: str, text: str) -> Post:
    post = _own_post(token, post_id)
    post.text = text
    post.edited_at = timezone.now()
    post.save(update_fields=["text", "edited_at"])
    return post


def delete_post(token: str, post_id: str) -> None:
    """Delete one of the member's posts; deleting it again is not an error."""
    author = member_for(token)
    post = Post.objects.filter(pk=int(post_id), author=author).first()
    if post is None:
        raise ConnectorError(f"sandbox: post {post_id} not found", permanent=True, status=404)
    if post.deleted_at is not None:
        return
    post.deleted_at = timezone.now()
    post.save(update_fields=["deleted_at"])


def _page(queryset: Any, cursor: str | None, limit: int) -> tuple[list[Any], str | None, bool]:
    after = int(cursor) if cursor else 0
    rows = list(queryset.filter(pk__gt=after).order_by("id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1].pk) if rows else cursor), has_more


def mentions(token: str, cursor: str | None, limit: int) -> tuple[list[Post], str | None, bool]:
    """Posts that reply to the member or name their handle, oldest first, after the cursor."""
    me = member_for(token)
    query = (Q(reply_to__author=me) | Q(text__icontains=me.handle)) & ~Q(author=me)
    return _page(Post.objects.filter(query, deleted_at__isnull=True).select_related("author", "reply_to"),
                 cursor, limit)


def timeline(token: str, cursor: str | None, limit: int) -> tuple[list[Post], str | None, bool]:
    me = member_for(token)
    return _page(Post.objects.filter(author=me, deleted_at__isnull=True).select_related("author"), cursor, limit)


def account_posts(token: str, handle: str, cursor: str | None, limit: int) -> tuple[list[Post], str | None, bool]:
    """Another member's posts, oldest first, after the cursor."""
    member_for(token)
    author = Member.objects.filter(Q(handle__iexact=handle) | Q(handle__iexact=f"@{handle}")).first()
    if author is None:
        raise ConnectorError(f"sandbox: no member @{handle}", permanent=True, status=404)
    return _page(Post.objects.filter(author=author, deleted_at__isnull=True).select_related("author"),
                 cursor, limit)


def search(token: str, query: str, cursor: str | None, limit: int) -> tuple[list[Post], str | None, bool]:
    member_for(token)
    posts = Post.objects.filter(deleted_at__isnull=True).select_related("author")
    for term in query.split():
        posts = posts.filter(text__icontains=term)
    return _page(posts, cursor, limit)


def messages_for(token: str, cursor: str | None, limit: int) -> tuple[list[Message], str | None, bool]:
    me = member_for(token)
    return _page(Message.objects.filter(recipient=me).select_related("sender"), cursor, limit)


def send_message(token: str, recipient_handle: str, text: str) -> Message:
    me = member_for(token)
    recipient = Member.objects.filter(handle=recipient_handle).first()
    if recipient is None:
        raise ConnectorError(f"sandbox: no member {recipient_handle}", permanent=True, status=404)
    return Message.objects.create(sender=me, recipient=recipient, text=text)


def sms_for(token: str, cursor: str | None, limit: int) -> tuple[list[Sms], str | None, bool]:
    me = member_for(token)
    return _page(Sms.objects.filter(to_number=me.phone) if me.phone else Sms.objects.none(), cursor, limit)


def send_sms(token: str, to_number: str, text: str) -> Sms:
    me = member_for(token)
    if not me.phone:
        raise ConnectorError(f"sandbox: {me.handle} has no SMS number", permanent=True, status=422)
    return Sms.objects.create(from_number=me.phone, to_number=to_number, text=text)


def post_metrics(token: str, post_id: str) -> dict[str, int]:
    member_for(token)
    post = (Post.objects.filter(pk=int(post_id))
            .annotate(n_replies=Count("replies", distinct=True), n_reposts=Count("reposts", distinct=True)).first())
    if post is None:
        raise ConnectorError(f"sandbox: post {post_id} not found", permanent=True, status=404)
    return {"impressions": post.views, "likes": post.likes, "reposts": post.n_reposts, "replies": post.n_replies}


def account_metrics(token: str) -> dict[str, int]:
    me = member_for(token)
    return {"posts": me.posts.filter(deleted_at__isnull=True).count(),
            "followers": Member.objects.count() - 1}


def as_page(rows: list[Any], cursor: str | None, has_more: bool, convert: Any) -> Page:
    return Page(items=[convert(row) for row in rows], cursor=cursor, has_more=has_more)
