"""Flickr, with the ``flickrapi`` SDK and OAuth 1.0a.

Publishing uploads one photo (title from its alt text, the post as description); replies are comments on a
photo; comments on the account's recent photos are pulled with a cursor. The SDK's requests go through a
guarded session from :mod:`legation.connectors.http`, and its REST and upload URLs can point elsewhere (tests).

Ids: a photo is its Flickr photo id; a comment is ``"<photo id>/<comment id>"`` so that replying to or deleting
a comment knows its photo.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import flickrapi
import requests
from flickrapi.auth import FlickrAccessToken
from flickrapi.exceptions import FlickrError

from legation.connectors import http
from legation.connectors.base import (
    AccountInfo,
    Capability,
    ConnectorError,
    Delivered,
    InboundItem,
    Metrics,
    OutboundPost,
    Page,
    Provider,
    ProviderConfig,
    TextLimits,
)

PLATFORM = "flickr"
REST_PATH = "/services/rest/"
UPLOAD_PATH = "/services/upload/"
# Comments can be dated a little before the newest one read (clock skew, moderation); re-read this window.
CURSOR_OVERLAP = timedelta(minutes=10)
MAX_SEEN = 1000
# Flickr API error codes after which retrying cannot help (bad ids, permissions, keys, tokens).
TEMPORARY_CODES = frozenset({105, 106, 0})  # service unavailable, write failed, unknown
AUTH_CODES = frozenset({96, 97, 98, 99, 100})  # bad signature, missing signature, bad token, perms, bad key
NOT_FOUND_CODES = frozenset({1, 2})


class FlickrConfig(ProviderConfig):
    """One Flickr account."""

    is_public: bool = True
    safety_level: int = 1  # 1 safe, 2 moderate, 3 restricted
    content_type: int = 1  # 1 photo, 2 screenshot, 3 other
    # How many of the newest photos are checked for new comments on each pull.
    watch_recent_photos: int = 50
    initial_lookback_hours: int = 24
    # Other base URLs for the REST and upload endpoints (tests, an egress proxy).
    api_base_url: str | None = None
    upload_base_url: str | None = None
    timeout: float = 60.0


class _RecordingSession(http.GuardedSession):
    """The guarded session, remembering the last response so a FlickrError can be explained."""

    last_response: requests.Response | None = None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        self.last_response = response
        return response


class FlickrProvider(Provider):
    """Publish photos to Flickr, answer and pull comments, read view and favourite counts."""

    key: ClassVar[str] = "flickr"
    name: ClassVar[str] = "Flickr"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.PUBLISH, Capability.REPLY, Capability.DELETE, Capability.PULL_MENTIONS, Capability.METRICS}
    )
    config_model: ClassVar[type[ProviderConfig]] = FlickrConfig
    credential_fields: ClassVar[tuple[str, ...]] = ("api_key", "api_secret", "oauth_token", "oauth_token_secret")
    limits: ClassVar[TextLimits] = TextLimits(max_length=60_000, unit="characters", max_media=1, alt_text_max=255)

    config: FlickrConfig

    def __init__(self, config: Mapping[str, Any] | ProviderConfig | None, credentials: Mapping[str, str]):
        super().__init__(config, credentials)
        self._flickr: flickrapi.FlickrAPI | None = None
        self._session: _RecordingSession | None = None

    @property
    def flickr(self) -> flickrapi.FlickrAPI:
        if self._flickr is None:
            token = FlickrAccessToken(self.credential("oauth_token"), self.credential("oauth_token_secret"), "delete")
            api = flickrapi.FlickrAPI(
                self.credential("api_key"),
                self.credential("api_secret"),
                token=token,
                format="parsed-json",
                store_token=False,
            )
            self._session = _RecordingSession(timeout=(http.CONNECT_TIMEOUT, self.config.timeout))
            # The SDK keeps one requests.Session on the class; give this instance the guarded one.
            api.flickr_oauth.session = self._session
            if self.config.api_base_url:
                api.REST_URL = self.config.api_base_url.rstrip("/") + REST_PATH
            if self.config.upload_base_url:
                api.UPLOAD_URL = self.config.upload_base_url.rstrip("/") + UPLOAD_PATH
            self._flickr = api
        return self._flickr

    # -- errors --------------------------------------------------------------------------------------------

    def _error(self, exc: Exception, what: str) -> ConnectorError:
        found = http.find_connector_error(exc)
        if found is not None:
            return found
        if isinstance(exc, FlickrError):
            response = self._session.last_response if self._session else None
            status = response.status_code if response is not None else None
            if response is not None and status != 200:
                base = http.error_for_status(status or 0, response.headers, response.content, what=f"Flickr: {what}")
                if status == 401:
                    # OAuth 1.0a tokens do not expire; a 401 means revoked or wrong, and a person must re-link.
                    return ConnectorError(base.message, permanent=True, status=401)
                return base
            code = exc.code
            message = f"Flickr refused to {what}: {exc}"
            if code in TEMPORARY_CODES:
                return ConnectorError(message, status=status)
            return ConnectorError(message, permanent=True, status=404 if code in NOT_FOUND_CODES else status)
        if isinstance(exc, ValueError | KeyError | TypeError):
            return ConnectorError(f"Flickr's answer to '{what}' could not be read: {exc}")
        return http.error_for_exception(exc, what=f"Flickr: {what}")

    def _call(self, method: str, what: str, **params: Any) -> dict[str, Any]:
        try:
            result = self.flickr.do_flickr_call(method, **params)
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a ConnectorError
            raise self._error(exc, what) from exc
        if not isinstance(result, dict):
            raise ConnectorError(f"Flickr's answer to '{what}' was not a JSON object")
        return result

    # -- identity ------------------------------------------------------------------------------------------

    def verify_credentials(self) -> AccountInfo:
        data = self._call("flickr.test.login", "check the credentials")
        try:
            user = data["user"]
            return AccountInfo(external_id=str(user["id"]), handle=str(user["username"]["_content"]))
        except (KeyError, TypeError) as exc:
            raise ConnectorError(f"Flickr's answer to flickr.test.login was not understood: {exc}") from exc

    def _user_id(self) -> str:
        return self.verify_credentials().external_id

    # -- publishing ----------------------------------------------------------------------------------------

    def publish(self, post: OutboundPost) -> Delivered:
        """Upload the post's photo, or comment on a photo when the post is a reply."""
        if post.reply_to:
            return self._comment(post)
        if not post.media:
            raise ConnectorError("Flickr posts are photos: attach one image", permanent=True)
        if len(post.media) > 1:
            raise ConnectorError("Flickr takes one photo per post; split the images into several posts", permanent=True)
        media = post.media[0]
        if not media.mime_type.startswith("image/"):
            raise ConnectorError(f"Flickr cannot publish {media.mime_type}; only images", permanent=True)
        first_line = post.text.strip().split("\n", 1)[0]
        # Flickr uses the title as the image's alt text on its pages, so the alt text is the title.
        title = (media.alt_text or first_line)[:255]
        description = post.text if not post.link or post.link in post.text else f"{post.text}\n\n{post.link}"
        params: dict[str, Any] = {
            "title": title,
            "description": description,
            "is_public": "1" if self.config.is_public else "0",
            "safety_level": str(self.config.safety_level),
            "content_type": str(self.config.content_type),
            "format": "etree",
        }
        try:
            rsp = self.flickr.upload(media.filename or "photo", fileobj=io.BytesIO(media.data), **params)
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, "upload the photo") from exc
        photo_id = rsp.findtext("photoid") if rsp is not None else None
        if not photo_id:
            raise ConnectorError(
                "Flickr accepted the upload but returned no photo id; check the account", permanent=True
            )
        return Delivered(external_id=photo_id, url=self._photo_url(photo_id), raw={"title": title})

    def _photo_url(self, photo_id: str) -> str:
        return f"https://www.flickr.com/photo.gne?id={photo_id}"

    def _comment(self, post: OutboundPost) -> Delivered:
        photo_id = (post.reply_to or "").split("/", 1)[0]
        text = post.text if not post.link or post.link in post.text else f"{post.text}\n{post.link}"
        data = self._call(
            "flickr.photos.comments.addComment", "comment on the photo", photo_id=photo_id, comment_text=text
        )
        comment = data.get("comment") or {}
        comment_id = str(comment.get("id") or "")
        if not comment_id:
            raise ConnectorError("Flickr's answer to addComment carried no comment id", permanent=True)
        return Delivered(external_id=f"{photo_id}/{comment_id}", url=comment.get("permalink"), raw=dict(comment))

    def delete(self, external_id: str) -> None:
        """Delete a photo, or a comment (``photo/comment``); one already gone counts as deleted."""
        photo_id, _, comment_id = external_id.partition("/")
        try:
            if comment_id:
                self._call("flickr.photos.comments.deleteComment", "delete the comment", comment_id=comment_id)
            else:
                self._call("flickr.photos.delete", "delete the photo", photo_id=photo_id)
        except ConnectorError as exc:
            if exc.status == 404:
                return
            raise

    # -- listening -----------------------------------------------------------------------------------------

    def pull_mentions(self, cursor: str | None, limit: int = 100) -> Page:
        """New comments on the account's most recent photos, oldest first, with a date+seen-ids cursor."""
        limit = max(1, limit)
        since, seen = _parse_cursor(cursor)
        if since is None:
            since = datetime.now(UTC) - timedelta(hours=self.config.initial_lookback_hours)
        window_start = since - CURSOR_OVERLAP
        photos = self._call(
            "flickr.people.getPhotos",
            "list the account's photos",
            user_id="me",
            per_page=self.config.watch_recent_photos,
            extras="count_comments,date_upload",
        )
        try:
            photo_list = photos["photos"]["photo"]
        except (KeyError, TypeError) as exc:
            raise ConnectorError(f"Flickr's photo list was not understood: {exc}") from exc
        fresh: list[tuple[datetime, str, InboundItem]] = []
        for photo in photo_list:
            if int(photo.get("count_comments") or 0) == 0:
                continue
            photo_id = str(photo["id"])
            data = self._call(
                "flickr.photos.comments.getList",
                "list comments",
                photo_id=photo_id,
                min_comment_date=int(window_start.timestamp()),
            )
            for comment in (data.get("comments") or {}).get("comment") or []:
                item = self._comment_item(photo_id, comment)
                if item.external_id in seen or item.created_at is None or item.created_at < window_start:
                    continue
                fresh.append((item.created_at, item.external_id, item))
        fresh.sort(key=lambda entry: (entry[0], entry[1]))
        batch = fresh[:limit]
        newest = max([since, *(created for created, _id, _item in batch)])
        seen.update({item_id: created.timestamp() for created, item_id, _item in batch})
        horizon = (newest - CURSOR_OVERLAP).timestamp()
        kept = sorted(((ts, i) for i, ts in seen.items() if ts >= horizon), reverse=True)[:MAX_SEEN]
        new_cursor = json.dumps({"since": newest.timestamp(), "seen": {i: ts for ts, i in kept}}, separators=(",", ":"))
        return Page(items=[item for _c, _i, item in batch], cursor=new_cursor, has_more=len(fresh) > len(batch))

    @staticmethod
    def _comment_item(photo_id: str, comment: Mapping[str, Any]) -> InboundItem:
        try:
            created = datetime.fromtimestamp(int(comment["datecreate"]), UTC)
            comment_id = str(comment["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConnectorError(f"a Flickr comment was not understood: {exc}") from exc
        return InboundItem(
            platform=PLATFORM,
            external_id=f"{photo_id}/{comment_id}",
            kind="comment",
            text=str(comment.get("_content") or ""),
            author_id=str(comment.get("author") or ""),
            author_name=str(comment.get("realname") or comment.get("authorname") or ""),
            created_at=created,
            url=comment.get("permalink"),
            in_reply_to=photo_id,
            conversation_id=photo_id,
            raw=dict(comment),
        )

    # -- measurement ---------------------------------------------------------------------------------------

    def post_metrics(self, external_id: str) -> Metrics:
        """Views and comment count from photos.getInfo, favourites from photos.getFavorites."""
        photo_id = external_id.split("/", 1)[0]
        info = self._call("flickr.photos.getInfo", "read the photo", photo_id=photo_id)
        faves = self._call("flickr.photos.getFavorites", "read the favourites", photo_id=photo_id, per_page=1)
        try:
            photo = info["photo"]
            views = int(photo.get("views") or 0)
            comments = int((photo.get("comments") or {}).get("_content") or 0)
            likes = int(faves["photo"]["total"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConnectorError(f"Flickr's photo counters were not understood: {exc}") from exc
        return Metrics(impressions=views, likes=likes, replies=comments, raw={"photo_id": photo_id})


def _parse_cursor(cursor: str | None) -> tuple[datetime | None, dict[str, float]]:
    if not cursor:
        return None, {}
    try:
        data = json.loads(cursor)
        return datetime.fromtimestamp(float(data["since"]), UTC), {
            str(k): float(v) for k, v in dict(data.get("seen", {})).items()
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise ConnectorError(f"flickr: the stored cursor is malformed: {cursor!r}", permanent=True) from exc
