"""Configuration from the environment: what is generated when the operator gave nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import settings


def test_a_generated_secret_key_is_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(settings, "ROOT", tmp_path)
    loose = os.umask(0)  # the key's mode must not depend on the operator's umask
    try:
        key = settings._secret_key()
    finally:
        os.umask(loose)
    path = tmp_path / ".secret_key"
    assert len(key) >= 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings._secret_key() == key  # kept: restarts and other processes sign alike
    assert [p.name for p in tmp_path.iterdir()] == [".secret_key"]  # nothing left behind


def test_an_old_world_readable_key_file_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(settings, "ROOT", tmp_path)
    path = tmp_path / ".secret_key"
    path.write_text("an-older-key")
    path.chmod(0o644)
    assert settings._secret_key() == "an-older-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_environment_wins_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setattr(settings, "ROOT", tmp_path)
    assert settings._secret_key() == "from-the-environment"
    assert not (tmp_path / ".secret_key").exists()


def test_socket_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmarks open thousands of sockets from a few cookies: they raise these."""
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.delenv("WS_MAX_PER_DEVICE", raising=False)
    monkeypatch.delenv("WS_MAX_PER_TABLE", raising=False)
    defaults = settings.Settings.from_env()
    assert (defaults.ws_max_per_device, defaults.ws_max_per_table) == (50, 100)
    monkeypatch.setenv("WS_MAX_PER_DEVICE", "100000")
    monkeypatch.setenv("WS_MAX_PER_TABLE", "7")
    raised = settings.Settings.from_env()
    assert (raised.ws_max_per_device, raised.ws_max_per_table) == (100000, 7)
