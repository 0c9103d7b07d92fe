"""The sandbox provider: Legation's built-in practice network, reached like any platform through its API.

The sandbox platform lives in Legation's own database (``legation.sandbox``); this provider imports its platform
API lazily and speaks to it only through tokens, as to any remote platform.
"""

from __future__ import annotations

from typing import Any, ClassVar

from legation.connectors.base import (
    AccountInfo,
    Capability,
    Delivered,
    InboundItem,
    Metrics,
    OutboundPost,
    Page,
    Provider,
    ProviderConfig,
    TextLimits,
    account_handle,
)


class SandboxConfig(ProviderConfig):
    """The sandbox needs no settings; the access token says who the account is."""


def _api() -> Any:
    from legation.sandbox import network

    return network


class SandboxProvider(Provider):
    key = "sandbox"
    name = "Sandbox"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.PUBLISH, Capability.EDIT, Capability.DELETE, Capability.REPLY, Capability.PULL_MENTIONS,
        Capability.PULL_TIMELINE, Capability.PULL_ACCOUNT, Capability.SEARCH, Capability.PULL_MESSAGES,
        Capability.SEND_MESSAGE, Capability.METRICS,
    })
    config_model = SandboxConfig
    credential_fields = ("access_token",)
    limits = TextLimits(max_length=1000, unit="characters", max_media=4)

    @property
    def token(self) -> str:
        return self.credential("access_token")

    def verify_credentials(self) -> AccountInfo:
        member = _api().member_for(self.token)
        return AccountInfo(external_id=str(member.pk), handle=member.handle, display_name=member.display_name)

    def publish(self, post: OutboundPost) -> Delivered:
        created = _api().create_post(
            self.token, post.text + (f"\n{post.link}" if post.link and post.link not in post.text else ""),
            reply_to=post.reply_to, alt_texts=[m.alt_text for m in post.media], link=post.link or "",
            language=post.language or "", idempotency_key=post.idempotency_key or "",
        )
        return Delivered(external_id=str(created.pk), url=_api().post_url(created))

    def edit(self, external_id: str, post: OutboundPost) -> Delivered:
        edited = _api().edit_post(self.token, external_id, post.text)
        return Delivered(external_id=str(edited.pk), url=_api().post_url(edited))

    def delete(self, external_id: str) -> None:
        _api().delete_post(self.token, external_id)

    @staticmethod
    def _item(post: Any, kind: str) -> InboundItem:
        return InboundItem(
            platform="sandbox", external_id=str(post.pk), kind=kind, text=post.text,
            author_id=str(post.author_id), author_name=post.author.handle, created_at=post.created_at,
            url=f"/sandbox/posts/{post.pk}/", in_reply_to=str(post.reply_to_id) if post.reply_to_id else None,
            conversation_id=str(post.reply_to_id or post.pk), language=post.language or None,
        )

    def pull_mentions(self, cursor: str | None, limit: int = 100) -> Page:
        rows, next_cursor, more = _api().mentions(self.token, cursor, limit)
        return Page([self._item(p, "reply" if p.reply_to_id else "mention") for p in rows], next_cursor, more)

    def pull_timeline(self, cursor: str | None, limit: int = 100) -> Page:
        rows, next_cursor, more = _api().timeline(self.token, cursor, limit)
        return Page([self._item(p, "post") for p in rows], next_cursor, more)

    def pull_account(self, handle: str, cursor: str | None, limit: int = 100) -> Page:
        rows, next_cursor, more = _api().account_posts(self.token, account_handle(handle), cursor, limit)
        return Page([self._item(p, "post") for p in rows], next_cursor, more)

    def search(self, query: str, cursor: str | None, limit: int = 100) -> Page:
        rows, next_cursor, more = _api().search(self.token, query, cursor, limit)
        return Page([self._item(p, "post") for p in rows], next_cursor, more)

    def pull_messages(self, cursor: str | None, limit: int = 100) -> Page:
        rows, next_cursor, more = _api().messages_for(self.token, cursor, limit)
        items = [
            InboundItem(platform="sandbox", external_id=f"dm-{m.pk}", kind="message", text=m.text,
                        author_id=str(m.sender_id), author_name=m.sender.handle, created_at=m.created_at,
                        conversation_id=f"dm-{m.sender_id}")
            for m in rows
        ]
        return Page(items, next_cursor, more)

    def send_message(self, recipient_id: str, text: str) -> Delivered:
        sent = _api().send_message(self.token, recipient_id, text)
        return Delivered(external_id=f"dm-{sent.pk}")

    def post_metrics(self, external_id: str) -> Metrics:
        data = _api().post_metrics(self.token, external_id)
        return Metrics(impressions=data["impressions"], likes=data["likes"], reposts=data["reposts"],
                       replies=data["replies"], raw=data)

    def account_metrics(self) -> Metrics:
        data = _api().account_metrics(self.token)
        return Metrics(followers=data["followers"], raw=data)
