"""WhatsApp, Telegram, email and a hundred other services through Apprise: one URL each.

A district's provider is a line of configuration, not code: `VIGIA_APPRISE_URLS` maps a
channel name to an Apprise URL with `{target}` where the subscriber's number, chat or
address goes, e.g. `{"whatsapp": "whatsapp://TOKEN@PHONE_ID/{target}",
"email": "mailtos://user:pass@smtp.example.org/{target}?from=vigia@example.org"}`. The
channel `apprise` takes a whole Apprise URL as its target, for a one-off destination.

Apprise answers only yes or no; its log lines for the attempt are kept as the provider's
answer. URLs hold provider tokens, so they are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote

import apprise

from notify.channels import Delivery, Outcome

RAW = "apprise"


class BadAppriseUrl(ValueError):
    """A URL Apprise cannot make a notification service of."""


def url_for(templates: Mapping[str, str], channel: str, target: str) -> str:
    """The Apprise URL of one subscriber on one channel."""
    if channel == RAW:
        return target
    template = templates.get(channel)
    if template is None:
        raise BadAppriseUrl(f"no Apprise URL is configured for channel {channel!r} (VIGIA_APPRISE_URLS)")
    return template.replace("{target}", quote(target.lstrip("+") if channel == "whatsapp" else target, safe="@+"))


def check(url: str) -> str:
    """The name of the service a URL reaches, or BadAppriseUrl."""
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        raise BadAppriseUrl("Apprise does not recognise this URL")
    return str(plugin.service_name)


class AppriseChannel:
    def __init__(self, channel: str, templates: Mapping[str, str]) -> None:
        self.channel = channel
        self.templates = templates

    async def send(self, delivery: Delivery) -> Outcome:
        try:
            url = url_for(self.templates, self.channel, delivery.target)
        except BadAppriseUrl as error:
            return Outcome(False, None, str(error))
        notifier = apprise.Apprise()
        if not notifier.add(url):
            return Outcome(False, None, "Apprise does not recognise the configured URL")
        with apprise.LogCapture(level=logging.INFO) as captured:  # type: ignore[no-untyped-call]
            sent = await notifier.async_notify(body=delivery.message, title=delivery.subject or None)
        words = " | ".join(line.strip() for line in captured.getvalue().splitlines() if line.strip())[-500:]
        if sent:
            return Outcome(True, None, answer=words or "sent")
        return Outcome(False, None, words or "Apprise could not send", answer=words or None)
