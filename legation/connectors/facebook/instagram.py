"""Instagram professional accounts through Meta's Graph API: container publishing, comments, messages, insights."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from legation.connectors.base import (
    AccountInfo,
    Capability,
    ConfigError,
    ConnectorError,
    Delivered,
    InboundItem,
    Media,
    Metrics,
    OutboundPost,
    TextLimits,
)
from legation.connectors.facebook.graph import (
    IG_COMMENT_FIELDS,
    GraphProvider,
    InstagramConfig,
    insight,
    parse_time,
)


class InstagramProvider(GraphProvider):
    """An Instagram professional account: container publishing, comments and replies, messages, insights.

    Instagram fetches images from a public URL; Legation must hand the provider ``media_url_for``, a function
    that stores an image where Instagram can fetch it and returns its URL (Media carries only bytes).
    """

    key = "instagram"
    name = "Instagram"
    capabilities = frozenset(
        {
            Capability.PUBLISH,
            Capability.DELETE,
            Capability.REPLY,
            Capability.PULL_MENTIONS,
            Capability.PULL_MESSAGES,
            Capability.SEND_MESSAGE,
            Capability.METRICS,
            Capability.WEBHOOK,
            Capability.REFRESH_TOKEN,
        }
    )
    config_model = InstagramConfig
    config: InstagramConfig
    limits: ClassVar[TextLimits] = TextLimits(
        max_length=2200, unit="characters", max_media=1, alt_text_max=None
    )
    messaging_platform = "instagram"
    webhook_object = "instagram"
    posts_edge = "media"
    media_url_for: Callable[[Media], str] | None = None

    def _own_id(self) -> str:
        return self.config.ig_user_id

    def verify_credentials(self) -> AccountInfo:
        user = self._call(
            "reading the account", lambda g: g.get_object(self.config.ig_user_id, fields="id,username,name")
        )
        return AccountInfo(
            external_id=str(user["id"]), handle=user.get("username", ""), display_name=user.get("name", "")
        )

    def publish(self, post: OutboundPost) -> Delivered:
        """Reply to a comment, or publish one image: create a container, then ``media_publish`` it."""
        if post.reply_to:
            body = self._call(
                "replying to the comment",
                lambda g: g.post_object(post.reply_to or "", "replies", data={"message": post.text}),
            )
            return Delivered(external_id=str(body["id"]), raw=body)
        if len(post.text) > self.limits.max_length:
            raise ConnectorError(
                f"Instagram captions are limited to {self.limits.max_length} characters", permanent=True
            )
        if len(post.media) != 1:
            raise ConnectorError(
                "Instagram posts need exactly one image here (carousels are not supported yet)",
                permanent=True,
            )
        if self.media_url_for is None:
            raise ConfigError(
                "instagram: no media_url_for is set, and Instagram only fetches images from a public URL"
            )
        image = post.media[0]
        container_data = {"image_url": self.media_url_for(image), "caption": post.text}
        if image.alt_text:
            container_data["alt_text"] = image.alt_text
        user = self.config.ig_user_id
        container = self._call(
            "creating the media container", lambda g: g.post_object(user, "media", data=container_data)
        )
        published = self._call(
            "publishing the media",
            lambda g: g.post_object(user, "media_publish", data={"creation_id": container["id"]}),
        )
        media_id = str(published["id"])
        details = self._call("reading the permalink", lambda g: g.get_object(media_id, fields="id,permalink"))
        return Delivered(
            external_id=media_id, url=details.get("permalink"), raw={"container": container, **published}
        )

    def _comment_fields(self) -> str:
        return IG_COMMENT_FIELDS

    def _comment_item(self, comment: Mapping[str, Any], post_id: str) -> InboundItem:
        author = comment.get("from") or {}
        return InboundItem(
            platform=self.key,
            external_id=str(comment["id"]),
            kind="comment",
            text=comment.get("text", ""),
            author_id=str(author.get("id", "")),
            author_name=comment.get("username") or author.get("username", ""),
            created_at=parse_time(comment.get("timestamp")),
            in_reply_to=comment.get("parent_id") or post_id,
            conversation_id=post_id,
            raw=dict(comment),
        )

    def _change_item(self, change: Mapping[str, Any]) -> InboundItem | None:
        value = change.get("value") or {}
        if change.get("field") not in ("comments", "live_comments") or not value.get("id"):
            return None
        author = value.get("from") or {}
        if str(author.get("id")) == self.config.ig_user_id:
            return None
        media_id = str((value.get("media") or {}).get("id", ""))
        return InboundItem(
            platform=self.key,
            external_id=str(value["id"]),
            kind="comment",
            text=value.get("text", ""),
            author_id=str(author.get("id", "")),
            author_name=author.get("username", ""),
            in_reply_to=value.get("parent_id") or media_id,
            conversation_id=media_id,
            raw=dict(value),
        )

    def post_metrics(self, external_id: str) -> Metrics:
        media = self._call(
            "reading media counters", lambda g: g.get_object(external_id, fields="like_count,comments_count")
        )
        insights = self._call(
            "reading media insights",
            lambda g: g.get_connection(external_id, "insights", metric="reach,views,shares"),
        )
        return Metrics(
            impressions=insight(insights, "views"),
            likes=media.get("like_count"),
            reposts=insight(insights, "shares"),
            replies=media.get("comments_count"),
            raw={"media": media, "insights": insights},
        )

    def account_metrics(self) -> Metrics:
        user = self._call(
            "reading account counters",
            lambda g: g.get_object(self.config.ig_user_id, fields="followers_count,media_count"),
        )
        return Metrics(followers=user.get("followers_count"), raw=user)

