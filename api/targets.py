"""Where a subscription's messages go, checked before it is saved: each channel its own kind of target.

A bad target gets a 422 naming the field, never a delivery that fails for weeks. A webhook
(or an Apprise URL that posts to a server of the subscriber's choosing) may not point at
loopback or private networks unless allowed: a subscriber must not make the notifier probe
the internal network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import apprise
from fastapi import HTTPException

from vigia.phones import BadPhoneNumber, normalise

BUILT_IN = frozenset({"webhook", "log", "sms", "apprise"})
PHONE_NUMBER_CHANNELS = frozenset({"sms", "whatsapp"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
POSTING_SCHEMES = {"json": "http", "jsons": "https", "xml": "http", "xmls": "https", "form": "http", "forms": "https"}


def _invalid(detail: str) -> HTTPException:
    return HTTPException(422, f"target: {detail}")


async def check_webhook(url: str, *, allow_private: bool) -> None:
    """Refuse what is not an http(s) URL, and, unless allowed, hosts on loopback or private networks."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _invalid("a webhook target must be an http or https URL")
    if allow_private:
        return
    try:
        infos = await asyncio.to_thread(socket.getaddrinfo, parts.hostname, parts.port or 443)
    except OSError:
        raise _invalid(f"the host {parts.hostname!r} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise _invalid(f"{parts.hostname!r} is not a public address")


def channels(apprise_urls: Mapping[str, str]) -> list[str]:
    """The channels this deployment sends on: the person-to-person ones first, as a form should offer them."""
    order = ["sms", "whatsapp", "email", "telegram"]
    known = BUILT_IN | set(apprise_urls)
    return sorted(known, key=lambda name: (order.index(name) if name in order else len(order), name))


def kind(channel: str) -> Literal["phone", "email", "url", "apprise", "label"]:
    """What a subscription's target is for `channel`."""
    if channel in PHONE_NUMBER_CHANNELS:
        return "phone"
    if channel == "email":
        return "email"
    if channel == "webhook":
        return "url"
    if channel == "log":
        return "label"
    return "apprise" if channel == "apprise" else "label"


async def checked(channel: str, target: str, *, apprise_urls: Mapping[str, str], allow_private: bool) -> str:
    """The target as it is stored (a phone number in E.164), or a 422 saying what is wrong."""
    if channel not in BUILT_IN and channel not in apprise_urls:
        known = ", ".join(sorted(BUILT_IN | set(apprise_urls)))
        raise HTTPException(422, f"channel: {channel!r} is not configured here; known: {known}")
    if channel == "webhook":
        await check_webhook(target, allow_private=allow_private)
        return target
    if channel in PHONE_NUMBER_CHANNELS:
        try:
            return normalise(target)
        except BadPhoneNumber as error:
            raise _invalid(str(error)) from None
    if channel == "email" and not EMAIL.match(target):
        raise _invalid(f"{target!r} is not an email address")
    if channel == "apprise":
        if apprise.Apprise.instantiate(target, suppress_exceptions=True) is None:
            raise _invalid("Apprise does not recognise this URL")
        parts = urlsplit(target)
        if parts.scheme in POSTING_SCHEMES:
            await check_webhook(
                parts._replace(scheme=POSTING_SCHEMES[parts.scheme]).geturl(), allow_private=allow_private
            )
    return target
