"""Replies from chats: what Telegram's and WhatsApp's webhooks post, read and checked."""

from __future__ import annotations

import hashlib
import hmac

from api.routes.chats import signed_by, telegram_message, whatsapp_messages


def test_a_telegram_text_message_gives_its_chat_and_words_and_anything_else_nothing() -> None:
    update = {"update_id": 1, "message": {"chat": {"id": 123456789, "type": "private"}, "text": "OK 4821"}}
    assert telegram_message(update) == ("123456789", "OK 4821")
    assert telegram_message({"update_id": 2, "message": {"chat": {"id": 1}, "sticker": {}}}) is None
    assert telegram_message({"update_id": 3, "callback_query": {}}) is None
    assert telegram_message({"message": "garbage"}) is None


def test_whatsapp_text_messages_are_found_in_the_cloud_apis_envelope() -> None:
    post = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"value": {
            "messages": [
                {"from": "51987654321", "type": "text", "text": {"body": "LISTO 4821"}},
                {"from": "51987654321", "type": "image", "image": {}},
            ],
            "statuses": [{"status": "delivered"}],
        }}]}],
    }  # fmt: skip
    assert list(whatsapp_messages(post)) == [("51987654321", "LISTO 4821")]
    assert list(whatsapp_messages({"entry": "x"})) == []
    assert list(whatsapp_messages({"entry": [{"changes": [{"value": None}]}]})) == []


def test_a_whatsapp_post_counts_only_when_signed_with_the_app_secret() -> None:
    body = b'{"entry": []}'
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert signed_by("app-secret", body, good)
    assert not signed_by("another", body, good)
    assert not signed_by("app-secret", body + b" ", good)
