from __future__ import annotations

import configparser
from pathlib import Path

from ops.control import ORDER, components
from ops.supervisor import render_config
from vigia.settings import Settings


def test_config_declares_every_component_with_its_log_and_no_autostart(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    text = render_config(tmp_path, components(settings))
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    programs = [s.removeprefix("program:") for s in parser.sections() if s.startswith("program:")]
    assert programs == [c.name for c in ORDER]
    for name in programs:
        section = parser[f"program:{name}"]
        assert section["autostart"] == "false"
        assert section["stdout_logfile"] == str(tmp_path / "logs" / f"{name}.log")
        assert section["killasgroup"] == "true"


def test_percent_signs_survive_supervisord_interpolation(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VIGIA_DB_PASSWORD", "p%ss")
    settings = Settings(state_dir=tmp_path)
    text = render_config(tmp_path, components(settings))
    parser = configparser.ConfigParser()  # supervisord interpolates like this
    parser.read_string(text)
    assert 'VIGIA_DB_PASSWORD="p%ss"' in parser["program:api"]["environment"]
