"""Kannel, the SMS gateway: bearerbox holds the connection to the phone network, smsbox the HTTP side.

Vigía's notifier sends through smsbox's `sendsms` interface; a reply from a phone comes back
through smsbox's `sms-service`, which posts it to the API, and whatever the API answers goes
back to that phone as an SMS. Delivery receipts reach the API through each message's
`dlr-url`. Queued messages (`store-file`) and receipts awaited (`dlr-spool`) are kept on
disk, so a restarted bearerbox neither drops nor forgets them.

Towards the network, the SMSC block comes from `VIGIA_KANNEL_SMSC_FILE` (SMPP to the
carrier, or a GSM modem: see docs/operations.md); without it, bearerbox listens on loopback
for the stand-in SMSC (`simulate/smsc.py`) that plays the carrier on this machine.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx

from ops.component import Component, Health, Program, StackError, give_to, prepare_daemon_home, service_user
from vigia.settings import Settings

SMSC_ID = "carrier"


def _quoted(value: str) -> str:
    if '"' in value or "\n" in value:
        raise StackError(f"a Kannel setting may not hold quotes or line breaks: {value[:20]!r}...")
    return f'"{value}"'


def configuration(settings: Settings, home: Path, smsc_block: str | None) -> str:
    """kannel.conf for both boxes; loopback only, unless the settings say where else to listen."""
    s = settings
    token = s.sms_callback_token.get_secret_value()
    inbound = f"{s.sms_callback_base}/sms/inbound?token={token}"
    smsc = smsc_block or (
        "group = smsc\n"
        "smsc = fake\n"
        f"smsc-id = {SMSC_ID}\n"
        f"port = {s.kannel_fake_smsc_port}\n"
        "our-host = 127.0.0.1\n"
        'connect-allow-ip = "127.0.0.1"\n'
    )
    allowed = _quoted(s.kannel_allow_ip)
    return (
        "# Written by `vigia up`; edit the settings, not this file.\n"
        "group = core\n"
        f"admin-port = {s.kannel_admin_port}\n"
        f"admin-interface = {s.kannel_listen_host}\n"
        f"admin-password = {_quoted(s.kannel_admin_password.get_secret_value())}\n"
        'admin-deny-ip = "*.*.*.*"\n'
        f"admin-allow-ip = {allowed}\n"
        f"smsbox-port = {s.kannel_box_port}\n"
        "smsbox-interface = 127.0.0.1\n"
        'box-deny-ip = "*.*.*.*"\n'
        'box-allow-ip = "127.0.0.1"\n'
        "log-level = 2\n"
        "store-type = file\n"
        f"store-location = {home / 'messages.store'}\n"
        "store-dump-freq = 5\n"
        "dlr-storage = spool\n"
        f"dlr-spool = {home / 'dlr'}\n"
        "sms-resend-freq = 30\n"
        "sms-resend-retry = -1\n"
        "\n"
        f"{smsc}\n"
        "group = smsbox\n"
        "bearerbox-host = 127.0.0.1\n"
        f"bearerbox-port = {s.kannel_box_port}\n"
        f"sendsms-port = {s.kannel_sendsms_port}\n"
        f"sendsms-interface = {s.kannel_listen_host}\n"
        f"global-sender = {_quoted(s.sms_sender)}\n"
        "log-level = 2\n"
        "http-request-retry = 20\n"  # the API away for a while: keep the reply and try again
        "http-queue-delay = 10\n"
        "mo-recode = true\n"
        "\n"
        "group = sendsms-user\n"
        f"username = {_quoted(s.kannel_username)}\n"
        f"password = {_quoted(s.kannel_password.get_secret_value())}\n"
        'user-deny-ip = "*.*.*.*"\n'
        f"user-allow-ip = {allowed}\n"
        "concatenation = true\n"
        "max-messages = 4\n"
        "\n"
        "group = sms-service\n"
        "keyword = default\n"
        "catch-all = true\n"
        f"post-url = {_quoted(inbound)}\n"
        "max-messages = 1\n"  # the API's answer goes back to the phone as one SMS
        "omit-empty = true\n"  # an empty answer (a number we do not know) sends nothing
        "send-sender = true\n"  # the phone number, as X-Kannel-From
        "accept-x-kannel-headers = false\n"
    )


class _KannelBox(Component):
    kind = "infra"
    start_timeout = 30.0
    binary = ""
    verbosity = 1  # what goes to the supervisor's log: 0 debug, 1 info, 2 warnings

    @property
    def user(self) -> str | None:
        return service_user("kannel")

    def program(self) -> Program:
        binary = shutil.which(self.binary) or f"/usr/sbin/{self.binary}"
        return Program(
            command=[binary, "-v", str(self.verbosity), str(self.home / "kannel.conf")],
            user=self.user,
            directory=self.home,
            stopwaitsecs=15,
        )

    def version(self) -> str | None:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "kannel"], capture_output=True, text=True, check=False
        )
        return result.stdout.strip() or None


class Kannel(_KannelBox):
    """bearerbox: the SMSC connection, the message store and the receipts awaited."""

    name = "kannel"
    binary = "bearerbox"

    def prepare(self) -> None:
        if not shutil.which("bearerbox"):
            raise StackError("Kannel is not installed; run `make install` first")
        s = self.settings
        prepare_daemon_home(s, self.home, self.user)
        (self.home / "dlr").mkdir(parents=True, exist_ok=True)
        smsc = s.kannel_smsc_file.read_text() if s.kannel_smsc_file else None
        if smsc is not None and "group = smsc" not in smsc:
            raise StackError(f"{s.kannel_smsc_file} holds no `group = smsc` block")
        conf = self.home / "kannel.conf"
        conf.write_text(configuration(s, self.home, smsc))
        conf.chmod(0o600)  # it holds the gateway's passwords
        give_to(self.user, self.home)

    def endpoint(self) -> str:
        return f"http://{self.settings.kannel_listen_host}:{self.settings.kannel_admin_port}/status"

    def probe(self) -> Health:
        s = self.settings
        try:
            response = httpx.get(
                f"http://127.0.0.1:{s.kannel_admin_port}/status.txt",
                params={"password": s.kannel_admin_password.get_secret_value()},
                timeout=3,
            )
        except httpx.HTTPError as exc:
            return Health(False, type(exc).__name__)
        first = response.text.splitlines()[1] if len(response.text.splitlines()) > 1 else response.text
        if response.status_code != 200 or "running" not in response.text:
            return Health(False, f"status answered {response.status_code}: {first[:80]}")
        return Health(True, first.strip()[:80])


class SmsBox(_KannelBox):
    """smsbox: `sendsms` for the notifier, replies and receipts to the API."""

    name = "smsbox"
    binary = "smsbox"
    verbosity = 2  # smsbox logs every number and text it handles at info level: personal data

    @property
    def home(self) -> Path:
        return Kannel(self.settings).home  # one configuration for both boxes

    def endpoint(self) -> str:
        return self.settings.sendsms_url

    def probe(self) -> Health:
        try:
            response = httpx.get(self.settings.sendsms_url, timeout=3)
        except httpx.HTTPError as exc:
            return Health(False, type(exc).__name__)
        # Without credentials sendsms refuses, which is the answer of a running smsbox.
        return Health(True, f"sendsms answers ({response.status_code})")
