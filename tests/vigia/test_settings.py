from __future__ import annotations

import pytest
from pydantic import ValidationError

from vigia.settings import Settings


def test_environment_variables_with_the_prefix_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIA_DB_PORT", "25433")
    monkeypatch.setenv("VIGIA_KAFKA_BOOTSTRAP", "127.0.0.1:29092")
    settings = Settings()
    assert settings.db_port == 25433
    assert settings.kafka_broker_url == "kafka://127.0.0.1:29092"
    assert "port=25433" in settings.db_conninfo


def test_defaults_avoid_standard_ports() -> None:
    settings = Settings()
    assert settings.mqtt_port != 1883
    assert settings.db_port != 5432
    assert not settings.kafka_bootstrap.endswith(":9092")
    assert settings.api_port not in (80, 8000, 8080)


def test_production_refuses_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIA_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="VIGIA_MQTT_PASSWORD"):
        Settings()
    monkeypatch.setenv("VIGIA_MQTT_PASSWORD", "a-long-real-secret-1")
    monkeypatch.setenv("VIGIA_MQTT_SIMULATOR_PASSWORD", "a-long-real-secret-2")
    monkeypatch.setenv("VIGIA_MQTT_ADMIN_PASSWORD", "a-long-real-secret-7")
    monkeypatch.setenv("VIGIA_DB_PASSWORD", "a-long-real-secret-3")
    with pytest.raises(ValidationError, match="VIGIA_KANNEL_PASSWORD"):
        Settings()
    monkeypatch.setenv("VIGIA_KANNEL_PASSWORD", "a-long-real-secret-4")
    monkeypatch.setenv("VIGIA_KANNEL_ADMIN_PASSWORD", "a-long-real-secret-5")
    monkeypatch.setenv("VIGIA_SMS_CALLBACK_TOKEN", "a-long-real-secret-6")
    assert Settings().environment == "production"


def test_secrets_do_not_show_in_repr() -> None:
    assert "vigia-dev-db" not in repr(Settings())
