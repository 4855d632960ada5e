"""One settings object for every Vigía process, read from `VIGIA_*` environment variables.

The same names drive the local stack, docker-compose and Kubernetes, so a value set in one
place means the same thing everywhere. Defaults avoid the standard ports so the local stack
never collides with a broker or database the machine already runs.
"""

from __future__ import annotations

from pathlib import Path

from psycopg.conninfo import make_conninfo
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "vigia", "secret", "password"}
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything a Vigía process may be configured with."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_", env_file=".env", extra="ignore")

    environment: str = Field("development", description="development, test or production")
    state_dir: Path = Field(PROJECT_ROOT / ".vigia", description="data, logs and pid files of the local stack")
    daemon_dir: Path = Field(
        Path("/var/lib/vigia"),
        description="where daemons that run as their own system user (PostgreSQL, Mosquitto) keep their files"
        " when the stack is started by root: the state directory may be one only its owner can enter",
    )
    bind_host: str = "127.0.0.1"

    # MQTT (Mosquitto)
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 11883
    mqtt_username: str = "vigia-bridge"
    mqtt_password: SecretStr = SecretStr("vigia-dev-bridge")
    mqtt_client_id: str = "vigia-bridge"
    mqtt_shared_group: str = Field("", description="shared-subscription group for several bridges; empty: one bridge")
    mqtt_simulator_username: str = "vigia-simulator"
    mqtt_simulator_password: SecretStr = SecretStr("vigia-dev-simulator")
    mqtt_simulator_districts: list[str] = Field(
        ["san-juan-de-lurigancho"],
        description='the districts the simulator\'s account may publish in (a JSON list); ["*"]: any',
    )
    mqtt_admin_username: str = Field("vigia-sensor-admin", description="manages device accounts through $CONTROL")
    mqtt_admin_password: SecretStr = SecretStr("vigia-dev-sensor-admin")
    mqtt_tls_port: int = Field(18883, description="Mosquitto's TLS listener, for devices off this machine; 0: off")
    mqtt_ca_file: Path | None = Field(
        None, description="the CA to verify Mosquitto's certificate with, for clients connecting over TLS"
    )

    bridge_metrics_port: int = Field(19101, description="Prometheus metrics of the bridge; 0 turns them off")
    stream_metrics_port: int = Field(19102, description="Prometheus metrics of the stream worker; 0 turns them off")
    inference_metrics_port: int = Field(19103, description="Prometheus metrics of the inference worker; 0: off")
    notifier_metrics_port: int = Field(19104, description="Prometheus metrics of the notifier; 0 turns them off")

    # Kafka
    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_controller_port: int = 19093
    kafka_partitions: int = Field(3, ge=1)
    kafka_replication_factor: int = Field(1, ge=1, description="copies of each partition; 3 in production")
    kafka_min_insync_replicas: int = Field(
        1, ge=1, description="copies that must have a write before it is acknowledged; 2 in production"
    )
    kafka_heap: str = "768m"

    # TimescaleDB (PostgreSQL)
    db_host: str = "127.0.0.1"
    db_port: int = 15433
    db_name: str = "vigia"
    db_user: str = "vigia"
    db_password: SecretStr = SecretStr("vigia-dev-db")

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 18080
    api_cors_origins: str = Field("", description="comma-separated origins allowed to call the API from a browser")
    api_rate_limit: str = Field("1200/minute", description="per API key (or address without one), per replica")
    api_pool_size: int = Field(10, ge=1, description="database connections of each API process")
    api_workers: int = Field(0, ge=0, le=64, description="API processes on the one port; 0: one per core")
    api_key_cache_seconds: float = Field(
        60, ge=0, description="how long an API process may trust a key it checked; a change to the key ends it at once"
    )
    api_access_log: bool = Field(True, description="a log line per request (the request metrics count them either way)")
    api_db_wait_seconds: float = Field(
        5.0, gt=0, description="longest a request waits for a database connection before answering 503"
    )

    # Alert deliveries
    reminder_minutes: int = Field(30, ge=1, description="recall an unacknowledged critical alert this often")
    notifier_poll_seconds: float = Field(1.0, gt=0, description="how often due deliveries are looked for")
    webhook_allow_private: bool = Field(
        False, description="accept webhooks on loopback or private addresses (tests, a closed network)"
    )

    # SMS through Kannel, other channels through Apprise
    kannel_admin_port: int = Field(19130, description="Kannel's bearerbox status page and admin commands")
    kannel_box_port: int = Field(19131, description="where Kannel's smsbox connects to its bearerbox")
    kannel_sendsms_port: int = Field(19132, description="Kannel's sendsms HTTP interface")
    kannel_host: str = Field("127.0.0.1", description="where the notifier finds Kannel's sendsms interface")
    kannel_listen_host: str = Field(
        "127.0.0.1", description="the address Kannel's sendsms and admin interfaces listen on (0.0.0.0 in containers)"
    )
    kannel_allow_ip: str = Field(
        "127.0.0.1", description="who may call Kannel's sendsms and admin (Kannel's pattern: `10.*.*.*;127.0.0.1`)"
    )
    kannel_username: str = "vigia"
    kannel_password: SecretStr = SecretStr("vigia-dev-sms")
    kannel_admin_password: SecretStr = SecretStr("vigia-dev-sms-admin")
    kannel_smsc_file: Path | None = Field(
        None,
        description="a Kannel `group = smsc` block for the carrier's SMSC (SMPP) or a GSM modem; none: the"
        " stand-in SMSC on kannel_fake_smsc_port, which plays the carrier on this machine",
    )
    kannel_fake_smsc_port: int = Field(19133, description="where the stand-in SMSC reaches Kannel")
    smsc_inject_port: int = Field(19134, description="where the stand-in SMSC takes messages sent from a phone")
    sms_sender: str = Field("5100", description="the number alerts come from and replies go to")
    sms_callback_url: str = Field(
        "", description="where Kannel reaches the API for replies and receipts; default: the API on this host"
    )
    sms_callback_token: SecretStr = Field(
        SecretStr("vigia-dev-sms-callback"), description="Kannel presents it on every call to the API"
    )
    telegram_webhook_secret: SecretStr = Field(
        SecretStr(""), description="the secret_token set on the bot's webhook; empty: Telegram replies are off"
    )
    whatsapp_verify_token: SecretStr = Field(
        SecretStr(""), description="the verify token of the WhatsApp Cloud API webhook; empty: WhatsApp replies off"
    )
    whatsapp_app_secret: SecretStr = Field(SecretStr(""), description="signs WhatsApp's webhook posts")
    apprise_urls: dict[str, str] = Field(
        default_factory=dict,
        description="channel name -> Apprise URL with {target}, e.g. "
        '{"whatsapp": "whatsapp://TOKEN@PHONE_ID/{target}", "email": "mailtos://user:pass@smtp.example.org/{target}"}',
    )

    # Domain
    tile_zoom: int = Field(17, ge=1, le=22, description="XYZ zoom of the tiles sensors are placed on")
    window_seconds: int = Field(60, ge=1, description="the tumbling window, and the pane hopping windows are made of")
    hopping_window_seconds: int = Field(900, ge=1, description="the hopping window; it steps by one pane")
    lateness_seconds: float = Field(120.0, ge=0, description="how far behind its sensor's newest a reading may fold")
    late_horizon_seconds: float = Field(
        172800.0,
        ge=0,
        description="how far behind its sensor's newest a late reading still re-folds its closed windows and rules;"
        " older ones are stored and flagged late",
    )
    stream_batch: int = Field(2000, ge=1, description="records (a sensor's readings of a bridge batch) taken at once")
    stream_batch_seconds: float = Field(
        0.05, gt=0, description="longest wait for Faust to gather records; a write takes all that waits for it"
    )
    stream_fetch_min_bytes: int = Field(
        65536, ge=1, description="bytes Kafka gathers before answering the stream worker's fetch"
    )
    stream_fetch_max_wait_ms: int = Field(
        50, ge=0, le=1500, description="longest Kafka holds a fetch to gather stream_fetch_min_bytes"
    )
    rules_path: Path | None = Field(None, description="an alert rule file instead of the shipped one")
    retention_readings_days: int = Field(90, ge=1, description="raw readings kept this long")
    retention_windows_days: int = Field(730, ge=1, description="one- and fifteen-minute windows kept this long")
    retention_alert_events_days: int = Field(730, ge=1, description="alert history kept this long")
    registry_refresh_seconds: float = Field(30.0, gt=0)
    imagery_dir: Path = PROJECT_ROOT.parent / "shared" / "imagery"
    imagery_archive_dir: Path | None = Field(
        None,
        description="every assessed tile image, written by inference, read by the API; default: <state dir>/imagery",
    )
    imagery_zoom: int = Field(
        19, ge=1, le=22, description="XYZ zoom imagery is cut at: about the model's 0.3 m per pixel"
    )
    broker_accounts: str = Field(
        "dynsec",
        description="who manages sensors' MQTT accounts: an entry point of vigia.broker_accounts, or none",
    )
    inference_port: int = Field(
        19105, description="where the inference worker answers on-demand assessments (POST /assess); 0: off"
    )
    inference_url: str = Field("", description="the inference worker's on-demand assessments; default: on this host")
    model_path: Path | None = Field(None, description="a model file to serve instead of the registry's champion")
    inference_threads: int = Field(
        1, ge=1, description="lanes of the inference worker, a thread each; the stream keeps the rest"
    )
    inference_batch: int = Field(16, ge=1, le=256, description="tiles per forward pass")
    inference_int8: bool = Field(
        True, description="serve the INT8 graph `vigia model quantize` kept beside the model's weights, if any"
    )
    model_check_seconds: float = Field(10.0, gt=0, description="how often the worker looks for a newly promoted model")

    # Model registry and training runs (MLflow)
    mlflow_uri: str = Field("", description="the MLflow tracking server; default: the local stack's, on mlflow_port")
    mlflow_port: int = Field(15000, description="where the local stack's MLflow server listens")
    mlflow_listen_host: str = Field(
        "127.0.0.1", description="the address the MLflow server listens on (0.0.0.0 in containers)"
    )
    mlflow_allowed_hosts: str = Field(
        "", description="Host headers the MLflow server answers besides localhost and private addresses"
    )
    mlflow_artifacts: str = Field(
        "", description="where the MLflow server keeps artifacts: a folder or s3:// URI; default: <state dir>/mlflow"
    )
    model_name: str = Field("vigia-tilenet", description="the registered model whose `champion` alias is served")

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            for name in ("mqtt_password", "mqtt_simulator_password", "mqtt_admin_password", "db_password",
                         "kannel_password",
                         "kannel_admin_password", "sms_callback_token"):  # fmt: skip
                secret: SecretStr = getattr(self, name)
                value = secret.get_secret_value()
                if value in PLACEHOLDER_SECRETS or value.startswith("vigia-dev"):
                    raise ValueError(f"VIGIA_{name.upper()} must be set to a real secret in production")
        return self

    @property
    def retention_days(self) -> dict[str, int]:
        """Days each hypertable keeps its rows (the stream worker enforces it)."""
        windows = self.retention_windows_days
        return {
            "readings": self.retention_readings_days,
            "readings_1m": windows,
            "readings_15m": windows,
            "alert_events": self.retention_alert_events_days,
        }

    @property
    def db_conninfo(self) -> str:
        """A libpq connection string for the application role. It holds the password: never log it."""
        return make_conninfo(
            host=self.db_host,
            port=self.db_port,
            dbname=self.db_name,
            user=self.db_user,
            password=self.db_password.get_secret_value(),
            connect_timeout=5,
            application_name="vigia",
        )

    @property
    def kafka_broker_url(self) -> str:
        """The broker in the form Faust expects."""
        return ",".join(f"kafka://{hostport}" for hostport in self.kafka_bootstrap.split(","))

    @property
    def assess_url(self) -> str:
        """Where the API sends an image for an on-demand assessment."""
        base = self.inference_url or f"http://127.0.0.1:{self.inference_port}"
        return base.rstrip("/") + "/assess"

    @property
    def mlflow_tracking_uri(self) -> str:
        return (self.mlflow_uri or f"http://127.0.0.1:{self.mlflow_port}").rstrip("/")

    @property
    def sendsms_url(self) -> str:
        return f"http://{self.kannel_host}:{self.kannel_sendsms_port}/cgi-bin/sendsms"

    @property
    def sms_callback_base(self) -> str:
        """Where Kannel calls the API back: replies from phones and delivery receipts."""
        return (self.sms_callback_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"


def load_settings() -> Settings:
    return Settings()
