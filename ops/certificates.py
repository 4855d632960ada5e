"""The local stack's TLS: a CA of its own and a server certificate it signs, made once with openssl.

Devices verify the broker with the CA certificate (`tls/ca.crt` in Mosquitto's folder; `vigia
status` shows where); the CA's key never leaves that folder. In Kubernetes cert-manager
issues the certificate instead. Made on first start and kept, so devices configured with the
CA keep trusting the broker across restarts; the server certificate is renewed a month
before it expires.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ops.component import StackError

CA_DAYS = 3650
SERVER_DAYS = 825
RENEW_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Paths:
    ca: Path
    certificate: Path
    key: Path


def names(bind_host: str) -> list[str]:
    """What devices may call the broker: this host's names, loopback, and the address it listens on."""
    found = ["localhost", "127.0.0.1", socket.gethostname(), socket.getfqdn()]
    if bind_host not in {"0.0.0.0", "::"}:  # noqa: S104  # comparing, not binding
        found.append(bind_host)
    return sorted(set(found))


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _expires_soon(certificate: Path) -> bool:
    result = subprocess.run(
        ["openssl", "x509", "-checkend", str(RENEW_SECONDS), "-noout", "-in", str(certificate)],
        capture_output=True, check=False,
    )  # fmt: skip
    return result.returncode != 0


def subject_alt_names(hosts: list[str]) -> str:
    entries = []
    for host in hosts:
        try:
            ipaddress.ip_address(host)
            entries.append(f"IP:{host}")
        except ValueError:
            entries.append(f"DNS:{host}")
    return ",".join(entries)


def ensure(folder: Path, *, hosts: list[str]) -> Paths:
    """The CA and the server certificate in `folder`, made if missing or about to expire."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    paths = Paths(folder / "ca.crt", folder / "server.crt", folder / "server.key")
    ca_key = folder / "ca.key"
    if not paths.ca.exists() or not ca_key.exists():
        _openssl("req", "-x509", "-newkey", "rsa:3072", "-nodes", "-days", str(CA_DAYS), "-subj",
                 "/O=Vigia/CN=Vigia local MQTT CA", "-keyout", str(ca_key), "-out", str(paths.ca))  # fmt: skip
    if not paths.certificate.exists() or _expires_soon(paths.certificate):
        with tempfile.TemporaryDirectory() as scratch:
            request = Path(scratch) / "server.csr"
            extensions = Path(scratch) / "san.cnf"
            extensions.write_text(f"subjectAltName={subject_alt_names(hosts)}\nextendedKeyUsage=serverAuth\n")
            _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/O=Vigia/CN=mosquitto",
                     "-keyout", str(paths.key), "-out", str(request))  # fmt: skip
            _openssl("x509", "-req", "-in", str(request), "-CA", str(paths.ca), "-CAkey", str(ca_key),
                     "-CAcreateserial", "-days", str(SERVER_DAYS), "-extfile", str(extensions),
                     "-out", str(paths.certificate))  # fmt: skip
    for private in (ca_key, paths.key):
        private.chmod(0o600)
    return paths


def publish(paths: Paths, out: Path, *, owner: int | None = None) -> list[Path]:
    """The broker's certificate, key and the CA certificate in `out`, under the names cert-manager
    gives them (`tls.crt`, `tls.key`, `ca.crt`), so one Mosquitto configuration reads either.
    The CA's key stays where `ensure` made it. `owner` is the uid the broker runs as, which must
    read the key (1883 in the eclipse-mosquitto image)."""
    out.mkdir(parents=True, exist_ok=True)
    copies = [(paths.certificate, out / "tls.crt", 0o644), (paths.key, out / "tls.key", 0o600),
              (paths.ca, out / "ca.crt", 0o644)]  # fmt: skip
    for source, target, mode in copies:
        shutil.copyfile(source, target)
        target.chmod(mode)
        if owner is not None:
            os.chown(target, owner, owner)
    return [target for _, target, _ in copies]
