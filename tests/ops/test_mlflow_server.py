"""How the MLflow server is started from the settings: its database, artifacts and allowed hosts."""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from ops.mlflow import SCHEMA, backend_store_uri, server_command, server_environment
from vigia.settings import Settings


def test_the_backend_store_is_the_projects_database_with_the_registry_schema_first() -> None:
    settings = Settings(
        db_host="db", db_port=5432, db_name="vigia", db_user="vigia", db_password=SecretStr("p@ss:/w?rd")
    )
    parts = urlsplit(backend_store_uri(settings))
    assert parts.scheme == "postgresql+psycopg"
    assert (parts.hostname, parts.port, parts.path) == ("db", 5432, "/vigia")
    assert unquote(parts.password or "") == "p@ss:/w?rd"  # a password with URL characters survives
    assert unquote(parts.query) == f"options=-csearch_path={SCHEMA}"


def test_the_database_password_goes_by_environment_and_never_on_the_command_line() -> None:
    settings = Settings(db_password=SecretStr("s3cret-db"))
    assert not any("s3cret-db" in part for part in server_command(settings))
    assert "s3cret-db" in server_environment(settings)["MLFLOW_BACKEND_STORE_URI"]
    assert server_environment(settings)["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"


def test_artifacts_default_to_the_state_directory_and_allowed_hosts_are_passed_only_when_set(tmp_path: Path) -> None:
    local = server_command(Settings(state_dir=tmp_path))
    assert local[local.index("--artifacts-destination") + 1] == str(tmp_path / "mlflow" / "artifacts")
    assert "--allowed-hosts" not in local
    deployed = server_command(Settings(mlflow_artifacts="s3://vigia-models", mlflow_allowed_hosts="mlflow:5000"))
    assert deployed[deployed.index("--artifacts-destination") + 1] == "s3://vigia-models"
    assert deployed[deployed.index("--allowed-hosts") + 1] == "mlflow:5000"
