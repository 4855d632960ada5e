"""A private PostgreSQL cluster with TimescaleDB preloaded, on its own port and socket."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from ops.component import Component, Health, Program, StackError, give_to, prepare_daemon_home, service_user
from vigia.db.migrate import apply_migrations

PG_MAJOR = 15


def pg_bin(tool: str) -> str:
    path = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin/{tool}")
    if not path.exists():
        raise StackError(f"PostgreSQL {PG_MAJOR} is not installed ({path}); run `make install` first")
    return str(path)


class TimescaleDB(Component):
    name = "timescaledb"
    kind = "infra"
    start_timeout = 60.0

    @property
    def user(self) -> str | None:
        return service_user("postgres")

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"

    def prepare(self) -> None:
        prepare_daemon_home(self.settings, self.home, self.user)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o700)
        give_to(self.user, self.socket_dir)
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        give_to(self.user, self.data_dir)
        # The unix socket lives in a 0700 directory, so trusting it trusts only its owner and root;
        # TCP clients authenticate with a password.
        command = [
            pg_bin("initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"initdb failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def program(self) -> Program:
        s = self.settings
        return Program(
            command=[
                pg_bin("postgres"),
                "-D",
                str(self.data_dir),
                "-c",
                f"port={s.db_port}",
                "-c",
                f"listen_addresses={s.db_host}",
                "-c",
                f"unix_socket_directories={self.socket_dir}",
                "-c",
                "shared_preload_libraries=timescaledb",
                "-c",
                "timescaledb.telemetry_level=off",
                "-c",
                "max_connections=100",
                "-c",
                "shared_buffers=256MB",
                "-c",
                "logging_collector=off",
            ],
            user=self.user,
            directory=self.home,  # the state directory may be closed to the postgres user
            # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
            stopsignal="INT",
            stopwaitsecs=60,
        )

    def endpoint(self) -> str:
        return f"postgresql://{self.settings.db_user}@{self.settings.db_host}:{self.settings.db_port}/{self.settings.db_name}"

    def _superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.settings.db_port,
            user="postgres",
            dbname=dbname,
            autocommit=True,
            connect_timeout=5,
        )

    def probe(self) -> Health:
        try:
            with self._superuser() as conn:
                version = conn.execute("SHOW server_version").fetchone()
        except psycopg.Error as exc:
            return Health(False, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        return Health(True, f"PostgreSQL {version[0] if version else '?'} accepting connections")

    def after_start(self) -> None:
        """Create the application role, database and extension, then migrate the schema."""
        s = self.settings
        with self._superuser() as conn:
            role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (s.db_user,)).fetchone()
            verb = sql.SQL("ALTER") if role else sql.SQL("CREATE")
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                    verb, sql.Identifier(s.db_user), sql.Literal(s.db_password.get_secret_value())
                )
            )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (s.db_name,)).fetchone():
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(s.db_name), sql.Identifier(s.db_user))
                )
        with self._superuser(s.db_name) as conn:
            # timescaledb is not a trusted extension: the superuser creates it, the owner uses it.
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        with psycopg.connect(s.db_conninfo) as conn:
            apply_migrations(conn)

    def version(self) -> str | None:
        try:
            with self._superuser(self.settings.db_name) as conn:
                row = conn.execute(
                    "SELECT extversion, current_setting('timescaledb.license')"
                    " FROM pg_extension WHERE extname = 'timescaledb'"
                ).fetchone()
                server = conn.execute("SHOW server_version").fetchone()
        except psycopg.Error:
            return None
        if not row or not server:
            return None
        return f"PostgreSQL {server[0]}, TimescaleDB {row[0]} ({row[1]} licence)"
