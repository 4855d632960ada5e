"""A subscription's target, checked for its channel before anything is saved."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import HTTPException

from api import targets
from api.targets import checked

URLS = {"email": "mailto://127.0.0.1:2525/{target}", "whatsapp": "whatsapp://T@1/{target}"}


def check(channel: str, target: str) -> str:
    return asyncio.run(checked(channel, target, apprise_urls=URLS, allow_private=False))


def test_phone_numbers_are_stored_in_e164_whatever_way_they_were_typed() -> None:
    assert check("sms", "987 654 321") == "+51987654321"
    assert check("whatsapp", "0051 987-654-321") == "+51987654321"


@pytest.mark.parametrize(
    ("channel", "target", "says"),
    [
        ("sms", "12345", "not a valid phone number"),
        ("email", "junta", "not an email address"),
        ("telegram", "123", "not configured here"),
        ("apprise", "nothing://at/all", "Apprise does not recognise"),
        ("apprise", "json://127.0.0.1:9000/hook", "not a public address"),
        ("webhook", "ftp://example.org/x", "http or https"),
    ],
)
def test_what_is_not_a_target_of_its_channel_is_refused_with_the_reason(channel: str, target: str, says: str) -> None:
    with pytest.raises(HTTPException) as refused:
        check(channel, target)
    assert refused.value.status_code == 422
    assert says in str(refused.value.detail)


def test_a_form_is_offered_the_configured_channels_people_use_first_with_their_kind_of_target() -> None:
    offered = targets.channels({"whatsapp": "whatsapp://…", "email": "mailto://…", "telegram": "tgram://…"})
    assert offered == ["sms", "whatsapp", "email", "telegram", "apprise", "log", "webhook"]
    assert [targets.kind(c) for c in offered] == ["phone", "phone", "email", "label", "apprise", "label", "url"]
