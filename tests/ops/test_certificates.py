"""`vigia certificates`: a CA kept apart and the broker's certificate under cert-manager's names."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from ops.cli import app


def test_the_broker_gets_a_certificate_for_its_names_signed_by_a_ca_whose_key_stays_behind(tmp_path: Path) -> None:
    out, ca = tmp_path / "tls", tmp_path / "ca"
    args = ["certificates", str(out), "--ca-dir", str(ca), "--host", "mosquitto", "--host", "mqtt.example.pe"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["ca.crt", "tls.crt", "tls.key"]
    assert (ca / "ca.key").exists()
    assert oct((out / "tls.key").stat().st_mode & 0o777) == "0o600"
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(out / "ca.crt"), str(out / "tls.crt")], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stderr
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(out / "tls.crt")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "DNS:mosquitto" in text
    assert "DNS:mqtt.example.pe" in text

    # Run again (every `docker compose up`): the same CA, so devices keep trusting the broker.
    first_ca = (out / "ca.crt").read_bytes()
    assert CliRunner().invoke(app, args).exit_code == 0
    assert (out / "ca.crt").read_bytes() == first_ca


def test_the_key_is_handed_to_the_brokers_user(tmp_path: Path) -> None:
    me = os.getuid()
    args = ["certificates", str(tmp_path / "tls"), "--ca-dir", str(tmp_path / "ca"), "--host", "x", "--owner", str(me)]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert (tmp_path / "tls" / "tls.key").stat().st_uid == me
