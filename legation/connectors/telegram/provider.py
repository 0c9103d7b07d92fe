"""Telegram through the Bot API and ``python-telegram-bot``: channel posts and bot conversations.

The bot must be an administrator of the channel it posts to. Conversations are what people send to the bot
(and replies to it in groups), read with ``getUpdates`` or received on a webhook carrying
``X-Telegram-Bot-Api-Secret-Token``. PTB is asynchronous; each provider call runs its own short event loop, so
the provider stays a plain synchronous object like every other (call it from a worker, not an event loop).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import warnings
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

import httpx
import telegram
from telegram import error as tg_error
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

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
    ProviderConfig,
    TextLimits,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from legation.connectors.base import Provider as BaseProvider

T = TypeVar("T")

TEXT_MAX = 4096
CAPTION_MAX = 1024
MAX_WEBHOOK_BYTES = 1_000_000
# Methods Telegram can be asked again after a server error without doing the work twice.
SAFE_TO_REPEAT = frozenset({"getMe", "getUpdates", "getChatMemberCount", "deleteMessage", "editMessageText"})


class TelegramConfig(ProviderConfig):
    """Settings of one Telegram bot and the channel it publishes to."""

    api_base_url: str = "https://api.telegram.org"  # or a self-hosted Bot API server
    channel_id: str | None = None  # "@examplia_lisbon" or "-1001234567890"; needed to publish
    channel_username: str | None = None  # for public post links when channel_id is numeric


class _GuardedAsyncTransport(httpx.AsyncHTTPTransport):
    """PTB's httpx transport with the private-address guard and the response size limit of http.py."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        http.check_url(str(request.url))
        response = await super().handle_async_request(request)
        declared = response.headers.get("content-length", "")
        if declared.isdecimal() and int(declared) > http.DEFAULT_MAX_BYTES:
            await response.aclose()
            raise ConnectorError(
                f"Telegram sent a response of {declared} bytes, over the {http.DEFAULT_MAX_BYTES} limit",
                permanent=True,
                status=response.status_code,
            )
        return response


class TelegramProvider(BaseProvider):
    """A Telegram bot: posts to its channel, reads and answers the people who write to it."""

    key = "telegram"
    name = "Telegram"
    capabilities = frozenset(
        {
            Capability.PUBLISH,
            Capability.EDIT,
            Capability.DELETE,
            Capability.REPLY,
            Capability.PULL_MESSAGES,
            Capability.SEND_MESSAGE,
            Capability.METRICS,
            Capability.WEBHOOK,
        }
    )
    config_model = TelegramConfig
    # bot_token from @BotFather; webhook_secret is the secret_token given to setWebhook.
    credential_fields = ("bot_token", "webhook_secret")
    limits: ClassVar[TextLimits] = TextLimits(max_length=TEXT_MAX, unit="characters", max_media=10)
    config: TelegramConfig
    retry_policy: http.RetryPolicy = http.RetryPolicy()

    # ---- plumbing -----------------------------------------------------------------------------------------

    def _bot(self) -> tuple[telegram.Bot, list[HTTPXRequest]]:
        base = self.config.api_base_url.rstrip("/")

        def request(read_timeout: float) -> HTTPXRequest:
            return HTTPXRequest(
                connect_timeout=http.CONNECT_TIMEOUT,
                read_timeout=read_timeout,
                write_timeout=http.READ_TIMEOUT,
                httpx_kwargs={"transport": _GuardedAsyncTransport()},
            )

        requests = [request(http.READ_TIMEOUT), request(http.READ_TIMEOUT)]
        bot = telegram.Bot(
            self.credential("bot_token"),
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=requests[0],
            get_updates_request=requests[1],
        )
        return bot, requests

    def _call(self, method: str, fn: Callable[[telegram.Bot], Awaitable[T]]) -> T:
        """Run one Bot API call; wait out short flood limits, repeat safe calls after server errors."""

        async def run() -> T:
            bot, requests = self._bot()
            try:
                return await fn(bot)
            finally:
                for request in requests:
                    await request.shutdown()

        attempt = 0
        while True:
            try:
                return asyncio.run(run())
            except tg_error.RetryAfter as exc:
                wait = _retry_seconds(exc)
                if attempt + 1 < self.retry_policy.attempts and wait <= self.retry_policy.max_wait:
                    self.retry_policy.pause(wait)
                    attempt += 1
                    continue
                raise ConnectorError(
                    f"Telegram {method}: flood control, retry in {wait:g} s", retry_after=wait, status=429
                ) from exc
            except tg_error.TelegramError as exc:
                error = self._map_error(method, exc)
                if (
                    not error.permanent
                    and method in SAFE_TO_REPEAT
                    and attempt + 1 < self.retry_policy.attempts
                ):
                    self.retry_policy.pause(self.retry_policy.backoff(attempt))
                    attempt += 1
                    continue
                raise error from exc

    @staticmethod
    def _map_error(method: str, exc: tg_error.TelegramError) -> ConnectorError:
        found = http.find_connector_error(exc)
        if found is not None:
            return found
        message = f"Telegram {method}: {exc.message}"
        if isinstance(exc, tg_error.InvalidToken):
            # A bot token does not expire; 401 means it was revoked in @BotFather or is wrong.
            return ConnectorError(message, permanent=True, status=401)
        if isinstance(exc, tg_error.Forbidden):
            return ConnectorError(message, permanent=True, status=403)
        if isinstance(exc, tg_error.ChatMigrated):
            return ConnectorError(f"{message} (new chat id {exc.new_chat_id})", permanent=True, status=400)
        if isinstance(exc, tg_error.BadRequest | tg_error.Conflict):
            return ConnectorError(message, permanent=True, status=400)
        # NetworkError, TimedOut, a 5xx or an unreadable answer: worth trying again later.
        return ConnectorError(message, permanent=False)

    def _channel(self) -> str | int:
        channel = self.config.channel_id
        if not channel:
            raise ConnectorError("telegram: configuration 'channel_id' is needed to publish", permanent=True)
        return int(channel) if channel.lstrip("-").isdecimal() else channel

    def _post_url(self, chat: Mapping[str, Any] | None, message_id: int) -> str | None:
        username = (chat or {}).get("username") or self.config.channel_username
        if (
            not username
            and isinstance(self.config.channel_id, str)
            and self.config.channel_id.startswith("@")
        ):
            username = self.config.channel_id[1:]
        if username:
            return f"https://t.me/{username}/{message_id}"
        chat_id = str((chat or {}).get("id") or self.config.channel_id or "")
        if chat_id.startswith("-100"):
            return f"https://t.me/c/{chat_id[4:]}/{message_id}"
        return None

    # ---- identity -----------------------------------------------------------------------------------------

    def verify_credentials(self) -> AccountInfo:
        me = self._call("getMe", lambda bot: bot.get_me())
        return AccountInfo(external_id=str(me.id), handle=me.username or "", display_name=me.full_name)

    # ---- publishing ---------------------------------------------------------------------------------------

    def publish(self, post: OutboundPost) -> Delivered:
        """Post to the channel: a message, a photo with caption, or an album (captioned on its first photo).

        Telegram has no alt text for photos, so the alt text of each image is not sent.
        """
        text = post.text if not post.link or post.link in post.text else f"{post.text}\n{post.link}".strip()
        limit = CAPTION_MAX if post.media else TEXT_MAX
        if len(text) > limit:
            kind = "caption" if post.media else "message"
            raise ConnectorError(
                f"Telegram {kind} is too long: {len(text)} of {limit} characters", permanent=True
            )
        if len(post.media) > self.limits.max_media:
            raise ConnectorError(
                f"Telegram takes at most {self.limits.max_media} photos per album", permanent=True
            )
        chat = self._channel()
        reply = (
            telegram.ReplyParameters(message_id=int(post.reply_to.rsplit(":", 1)[-1]))
            if post.reply_to
            else None
        )
        if not post.media:
            message = self._call(
                "sendMessage", lambda bot: bot.send_message(chat, text, reply_parameters=reply)
            )
        elif len(post.media) == 1:
            image = post.media[0]
            message = self._call(
                "sendPhoto",
                lambda bot: bot.send_photo(
                    chat,
                    telegram.InputFile(image.data, filename=image.filename),
                    caption=text or None,
                    reply_parameters=reply,
                ),
            )
        else:
            album = [
                telegram.InputMediaPhoto(
                    telegram.InputFile(m.data, filename=m.filename, attach=True),
                    caption=text if i == 0 else None,
                )
                for i, m in enumerate(post.media)
            ]
            messages = self._call(
                "sendMediaGroup", lambda bot: bot.send_media_group(chat, album, reply_parameters=reply)
            )
            message = messages[0]
        raw = message.to_dict()
        return Delivered(
            external_id=str(message.message_id),
            url=self._post_url(raw.get("chat"), message.message_id),
            raw=raw,
        )

    def edit(self, external_id: str, post: OutboundPost) -> Delivered:
        """Replace the text of a channel message, or its caption when it is a photo."""
        chat, message_id = self._channel(), int(external_id.rsplit(":", 1)[-1])
        text = post.text if not post.link or post.link in post.text else f"{post.text}\n{post.link}".strip()
        try:
            result = self._call(
                "editMessageText",
                lambda bot: bot.edit_message_text(text, chat_id=chat, message_id=message_id),
            )
        except ConnectorError as exc:
            if "no text in the message" not in exc.message.lower():
                raise
            result = self._call(
                "editMessageCaption",
                lambda bot: bot.edit_message_caption(chat_id=chat, message_id=message_id, caption=text),
            )
        raw = result.to_dict() if isinstance(result, telegram.Message) else {"ok": result}
        return Delivered(
            external_id=str(message_id), url=self._post_url(raw.get("chat"), message_id), raw=raw  # type: ignore[arg-type]
        )

    def delete(self, external_id: str) -> None:
        chat, message_id = self._channel(), int(external_id.rsplit(":", 1)[-1])
        try:
            self._call("deleteMessage", lambda bot: bot.delete_message(chat, message_id))
        except ConnectorError as exc:
            # Deleting twice (a retried job) is done, not failed.
            if "message to delete not found" not in exc.message.lower():
                raise

    # ---- conversations ------------------------------------------------------------------------------------

    def pull_messages(self, cursor: str | None, limit: int = 100) -> Page:
        """Updates after ``cursor`` (the next update_id); asking with that offset confirms earlier ones."""
        offset = int(cursor) if cursor else None
        updates = self._call(
            "getUpdates",
            lambda bot: bot.get_updates(
                offset=offset,
                limit=max(1, min(100, limit)),
                timeout=0,
                allowed_updates=["message", "edited_message"],
            ),
        )
        items = [item for update in updates if (item := self._update_item(update)) is not None]
        next_offset = max((u.update_id for u in updates), default=None)
        cursor_out = str(next_offset + 1) if next_offset is not None else cursor
        return Page(items=items, cursor=cursor_out, has_more=len(updates) >= max(1, min(100, limit)))

    def _update_item(self, update: telegram.Update) -> InboundItem | None:
        message = update.message or update.edited_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return None
        chat = message.chat
        text = message.text or message.caption or ""
        if chat.type == telegram.constants.ChatType.PRIVATE:
            kind = "message"
        else:
            kind = "reply" if message.reply_to_message else "mention"
        reply_to = message.reply_to_message
        return InboundItem(
            platform=self.key,
            # Message ids are counted per chat, so the chat id makes them unique.
            external_id=f"{chat.id}:{message.message_id}",
            kind=kind,
            text=text,
            author_id=str(message.from_user.id),
            author_name=message.from_user.username or message.from_user.full_name,
            created_at=message.date,
            url=self._post_url(chat.to_dict(), message.message_id) if chat.username else None,
            in_reply_to=f"{chat.id}:{reply_to.message_id}" if reply_to else None,
            conversation_id=str(chat.id),
            language=message.from_user.language_code,
            raw=update.to_dict(),
        )

    def send_message(self, recipient_id: str, text: str) -> Delivered:
        """Answer a person (or group) by chat id; ``recipient_id`` may be ``chat:message`` to reply to one."""
        if len(text) > TEXT_MAX:
            raise ConnectorError(
                f"Telegram message is too long: {len(text)} of {TEXT_MAX} characters", permanent=True
            )
        chat, _, reply_to = recipient_id.partition(":")
        reply = telegram.ReplyParameters(message_id=int(reply_to)) if reply_to else None
        message = self._call(
            "sendMessage", lambda bot: bot.send_message(int(chat), text, reply_parameters=reply)
        )
        return Delivered(external_id=f"{chat}:{message.message_id}", url=None, raw=message.to_dict())

    # ---- measurement --------------------------------------------------------------------------------------

    def post_metrics(self, external_id: str) -> Metrics:
        raise ConnectorError(
            "Telegram's Bot API does not report views or reactions of a post", permanent=True
        )

    def account_metrics(self) -> Metrics:
        chat = self._channel()
        count = self._call("getChatMemberCount", lambda bot: bot.get_chat_member_count(chat))
        return Metrics(followers=count, raw={"member_count": count})

    # ---- webhooks -----------------------------------------------------------------------------------------

    def parse_webhook(self, request: WebhookRequest) -> WebhookResult:
        expected = self.credential("webhook_secret")
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not given:
            raise WebhookRejected("Telegram webhook without X-Telegram-Bot-Api-Secret-Token")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected("Telegram webhook secret token does not match")
        if len(request.body) > MAX_WEBHOOK_BYTES:
            raise WebhookRejected("Telegram webhook body is too large", status=413)
        try:
            payload = json.loads(request.body)
            update = telegram.Update.de_json(payload, None)
        except (ValueError, TypeError, KeyError) as exc:
            raise WebhookRejected("Telegram webhook body is not an Update", status=400) from exc
        item = self._update_item(update)
        return WebhookResult(items=[item] if item else [], delivery_id=str(update.update_id))


def _retry_seconds(exc: tg_error.RetryAfter) -> float:
    """Seconds from a RetryAfter, whether PTB hands back an int or (in newer versions) a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns that the type will change; both types are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
