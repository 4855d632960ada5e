"""A thin client for supervisord, which runs and watches every process of the local stack.

supervisord restarts a crashed process, keeps each one's log, and stops whole process
groups; it is started on demand and talked to over its XML-RPC unix socket.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport

from ops.component import Component, StackError, running_as_root

RUNNING = "RUNNING"
STOPPED_STATES = {"STOPPED", "EXITED", "FATAL", "UNKNOWN"}


def _quote(value: str) -> str:
    """supervisord reads values through ConfigParser interpolation: a literal % is %%."""
    return value.replace("%", "%%")


def _pair(key: str, value: str) -> str:
    """KEY="value" as supervisord's environment= reads it: a shlex without escapes, so a value with double
    quotes in it (a JSON setting) goes in single quotes; one with both kinds cannot be passed."""
    quote = "'" if '"' in value else '"'
    if quote in value or value[-1:] in {"'", '"'} or value[:1] in {"'", '"'}:
        raise StackError(f"{key} holds both kinds of quotes, or starts or ends with one: supervisord cannot pass it on")
    return f"{key}={quote}{_quote(value)}{quote}"


def render_config(state_dir: Path, components: list[Component]) -> str:
    run, logs = state_dir / "run", state_dir / "logs"
    lines = [
        "; Written by `vigia up`; edit the settings, not this file.",
        "[unix_http_server]",
        f"file={run / 'supervisor.sock'}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={logs / 'supervisord.log'}",
        f"pidfile={run / 'supervisord.pid'}",
        f"childlogdir={logs}",
        f"directory={state_dir}",
        "logfile_maxbytes=10MB",
        "logfile_backups=2",
    ]
    if running_as_root():
        lines.append("user=root")
    lines += [
        "",
        "[supervisorctl]",
        f"serverurl=unix://{run / 'supervisor.sock'}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
    ]
    for component in components:
        program = component.program()
        lines += [
            f"[program:{component.name}]",
            f"command={_quote(shlex.join(program.command))}",
            "autostart=false",
            "autorestart=unexpected",
            "startretries=3",
            f"startsecs={program.startsecs}",
            f"stopsignal={program.stopsignal}",
            f"stopwaitsecs={program.stopwaitsecs}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={component.log_path}",
            "stdout_logfile_maxbytes=50MB",
            "stdout_logfile_backups=3",
        ]
        if program.user:
            lines.append(f"user={program.user}")
        lines.append(f"directory={program.directory or state_dir}")
        if program.environment:
            pairs = ",".join(_pair(key, value) for key, value in sorted(program.environment.items()))
            lines.append(f"environment={pairs}")
        lines.append("")
    return "\n".join(lines)


class Supervisor:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.config_path = state_dir / "supervisord.conf"
        self.socket_path = state_dir / "run" / "supervisor.sock"
        self.pid_path = state_dir / "run" / "supervisord.pid"

    @property
    def rpc(self) -> Any:
        transport = SupervisorTransport(None, None, f"unix://{self.socket_path}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def is_running(self) -> bool:
        if self.pid() is None or not self.socket_path.exists():
            return False
        try:
            return cast(str, self.rpc.getState()["statename"]) == RUNNING
        except (OSError, xmlrpc.client.Fault):
            return False

    def write_config(self, components: list[Component]) -> None:
        for sub in ("run", "logs"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(render_config(self.state_dir, components))

    def ensure_running(self) -> None:
        """Start supervisord, or make a running one pick up the config just written."""
        if self.is_running():
            self._reload()
            return
        self.socket_path.unlink(missing_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.config_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"supervisord did not start: {result.stderr.strip() or result.stdout.strip()}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.is_running():
                return
            time.sleep(0.2)
        raise StackError(f"supervisord did not come up; see {self.state_dir / 'logs' / 'supervisord.log'}")

    def _reload(self) -> None:
        added, changed, removed = self.rpc.reloadConfig()[0]
        for name in [*changed, *removed]:
            self.stop(name)
            self.rpc.removeProcessGroup(name)
        for name in [*changed, *added]:
            self.rpc.addProcessGroup(name)

    def info(self, name: str) -> dict[str, Any] | None:
        try:
            return cast(dict[str, Any], self.rpc.getProcessInfo(name))
        except xmlrpc.client.Fault:
            return None

    def start(self, name: str) -> None:
        try:
            self.rpc.startProcess(name, False)
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" not in fault.faultString:
                raise StackError(f"supervisord could not start {name}: {fault.faultString}") from fault

    def stop(self, name: str) -> None:
        try:
            self.rpc.stopProcess(name, True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString and "BAD_NAME" not in fault.faultString:
                raise StackError(f"supervisord could not stop {name}: {fault.faultString}") from fault

    def shutdown(self, timeout: float = 60) -> None:
        pid = self.pid()
        if pid is None:
            return
        try:
            self.rpc.shutdown()
        except (OSError, xmlrpc.client.Fault):
            os.kill(pid, 15)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        raise StackError(f"supervisord (pid {pid}) did not exit within {timeout:.0f} s")
