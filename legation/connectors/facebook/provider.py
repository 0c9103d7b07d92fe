"""Facebook Pages through Meta's Graph API and ``python-facebook-api``: page posts, comments, Messenger, insights."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pyfacebook import GraphAPI

from legation.connectors.base import (
    AccountInfo,
    Capability,
    ConnectorError,
    Delivered,
    InboundItem,
    Media,
    Metrics,
    OutboundPost,
    TextLimits,
)
from legation.connectors.facebook.graph import (
    GraphProvider,
    MetaConfig,
    insight,
    parse_time,
)


class FacebookProvider(GraphProvider):
    """A Facebook Page: posts with photos and alt text, comments, Messenger, insights and webhooks."""

    key = "facebook"
    name = "Facebook"
    capabilities = frozenset(
        {
            Capability.PUBLISH,
            Capability.EDIT,
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
    config_model = MetaConfig
    limits: ClassVar[TextLimits] = TextLimits(max_length=63206, unit="characters", max_media=10)

    def verify_credentials(self) -> AccountInfo:
        page = self._call(
            "reading the Page", lambda g: g.get_object(self.config.page_id, fields="id,name,username")
        )
        return AccountInfo(
            external_id=str(page["id"]), handle=page.get("username") or "", display_name=page.get("name", "")
        )

    def _post_url(self, post_id: str) -> str:
        return f"https://www.facebook.com/{post_id}"

    def publish(self, post: OutboundPost) -> Delivered:
        """A feed post (with link), a photo post with alt text, several photos, or a comment when replying."""
        if len(post.text) > self.limits.max_length:
            raise ConnectorError(
                f"Facebook posts are limited to {self.limits.max_length} characters", permanent=True
            )
        if post.reply_to:
            text = post.text if not post.link or post.link in post.text else f"{post.text} {post.link}"
            body = self._call(
                "replying", lambda g: g.post_object(post.reply_to or "", "comments", data={"message": text})
            )
            return Delivered(external_id=str(body["id"]), url=None, raw=body)
        page = self.config.page_id
        if len(post.media) == 1:
            body = self._call(
                "publishing the photo", lambda g: self._upload_photo(g, post.media[0], post.text, True)
            )
            post_id = str(body.get("post_id") or body["id"])
            return Delivered(external_id=post_id, url=self._post_url(post_id), raw=body)
        data: dict[str, Any] = {"message": post.text}
        if post.link:
            data["link"] = post.link
        if post.media:
            photos = [
                self._call("uploading a photo", lambda g, m=m: self._upload_photo(g, m, "", False))  # type: ignore[misc]
                for m in post.media
            ]
            for index, photo in enumerate(photos):
                data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo["id"]})
        body = self._call("publishing the post", lambda g: g.post_object(page, "feed", data=data))
        if not body.get("id"):
            raise ConnectorError("Facebook answered the post without an id")
        return Delivered(external_id=str(body["id"]), url=self._post_url(str(body["id"])), raw=body)

    def _upload_photo(self, graph: GraphAPI, media: Media, caption: str, published: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"published": "true" if published else "false"}
        if caption:
            data["message"] = caption
        if media.alt_text:
            data["alt_text_custom"] = media.alt_text
        result: dict[str, Any] = graph.post_object(
            self.config.page_id,
            "photos",
            data=data,
            files={"source": (media.filename, media.data, media.mime_type)},
        )
        return result

    def edit(self, external_id: str, post: OutboundPost) -> Delivered:
        body = self._call(
            "editing the post", lambda g: g.post_object(external_id, data={"message": post.text})
        )
        if not body.get("success"):
            raise ConnectorError(f"Facebook did not edit {external_id}")
        return Delivered(external_id=external_id, url=self._post_url(external_id), raw=body)

    def _comment_item(self, comment: Mapping[str, Any], post_id: str) -> InboundItem:
        author = comment.get("from") or {}
        parent = (comment.get("parent") or {}).get("id")
        return InboundItem(
            platform=self.key,
            external_id=str(comment["id"]),
            kind="comment",
            text=comment.get("message", ""),
            author_id=str(author.get("id", "")),
            author_name=author.get("name", ""),
            created_at=parse_time(comment.get("created_time")),
            url=comment.get("permalink_url"),
            in_reply_to=parent or post_id,
            conversation_id=post_id,
            raw=dict(comment),
        )

    def _change_item(self, change: Mapping[str, Any]) -> InboundItem | None:
        value = change.get("value") or {}
        if change.get("field") != "feed" or value.get("item") != "comment" or value.get("verb") != "add":
            return None
        author = value.get("from") or {}
        if str(author.get("id")) == self.config.page_id:
            return None  # the Page's own replies
        post_id = str(value.get("post_id", ""))
        parent = str(value.get("parent_id", "")) or post_id
        stamp = value.get("created_time")
        return InboundItem(
            platform=self.key,
            external_id=str(value["comment_id"]),
            kind="comment",
            text=value.get("message", ""),
            author_id=str(author.get("id", "")),
            author_name=author.get("name", ""),
            created_at=datetime.fromtimestamp(int(stamp), tz=UTC) if isinstance(stamp, int) else None,
            in_reply_to=parent,
            conversation_id=post_id,
            raw=dict(value),
        )

    def post_metrics(self, external_id: str) -> Metrics:
        post = self._call(
            "reading post counters",
            lambda g: g.get_object(
                external_id,
                fields="shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)",
            ),
        )
        insights = self._call(
            "reading post insights",
            lambda g: g.get_connection(external_id, "insights", metric="post_impressions"),
        )
        return Metrics(
            impressions=insight(insights, "post_impressions"),
            likes=((post.get("reactions") or {}).get("summary") or {}).get("total_count"),
            reposts=(post.get("shares") or {}).get("count", 0),
            replies=((post.get("comments") or {}).get("summary") or {}).get("total_count"),
            raw={"post": post, "insights": insights},
        )

    def account_metrics(self) -> Metrics:
        page = self._call(
            "reading Page counters",
            lambda g: g.get_object(self.config.page_id, fields="followers_count,fan_count"),
        )
        return Metrics(followers=page.get("followers_count"), likes=page.get("fan_count"), raw=page)

