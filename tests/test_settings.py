"""Production refuses to start with unsafe settings, and says which setting is wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _start(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "RAREBRIDGE_ENV", "DATABASE_URL"}
    }
    clean.update(
        {"RAREBRIDGE_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    )
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ALLOWED_HOSTS": "rb.example.org"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 50}, "ALLOWED_HOSTS"),
        ({"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "rb.example.org", "DEBUG": "true"}, "DEBUG"),
        (
            {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "rb.example.org", "DEBUG": "maybe"},
            "DEBUG must be true or false",
        ),
    ],
)
def test_it_refuses_a_production_start_with_unsafe_settings(tmp_path, env, named):
    result = _start(tmp_path, RAREBRIDGE_ENV="production", **env)
    assert result.returncode != 0
    assert named in result.stderr


def test_it_starts_in_production_with_safe_settings(tmp_path):
    result = _start(
        tmp_path, RAREBRIDGE_ENV="production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="rb.example.org"
    )
    assert result.returncode == 0, result.stderr


def test_it_keeps_a_generated_secret_key_outside_the_repository_in_development(tmp_path):
    assert _start(tmp_path, RAREBRIDGE_ENV="development").returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) > 40 and oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
