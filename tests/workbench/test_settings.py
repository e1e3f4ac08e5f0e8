from __future__ import annotations

import pytest

from pipelines.errors import ConfigError
from workbench.settings import SETTINGS, load_settings, settings_markdown


def test_defaults_without_environment(tmp_path):
    settings = load_settings({"WORKBENCH_DATA_DIR": str(tmp_path)})
    assert settings.data_path == tmp_path.resolve()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'workbench.db'}"
    assert settings.compute == "auto"
    assert settings.source["compute"] == "default"
    assert settings.admin_password == ""  # no default password, ever


def test_environment_overrides_file_which_overrides_default(tmp_path):
    (tmp_path / "workbench.toml").write_text('max_upload_mb = 50\nsession_idle_minutes = 10\n', encoding="utf-8")
    settings = load_settings({"WORKBENCH_DATA_DIR": str(tmp_path), "WORKBENCH_SESSION_IDLE_MINUTES": "5"})
    assert settings.max_upload_mb == 50 and settings.source["max_upload_mb"].endswith("workbench.toml")
    assert settings.session_idle_minutes == 5 and settings.source["session_idle_minutes"] == "environment"


def test_unknown_environment_variable_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings({"WORKBENCH_DATA_DIR": str(tmp_path), "WORKBENCH_MAX_UPLOAD": "10"})
    assert caught.value.key == "config.unknown_key"
    assert "WORKBENCH_MAX_UPLOAD" in caught.value.params["key"]


def test_unknown_key_in_file_is_an_error(tmp_path):
    (tmp_path / "workbench.toml").write_text('compute_device = "gpu"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings({"WORKBENCH_DATA_DIR": str(tmp_path)})
    assert caught.value.params["key"] == "compute_device"


@pytest.mark.parametrize(("name", "value"), [("COMPUTE", "tpu"), ("MAX_UPLOAD_MB", "-1"), ("DEMO_PROJECT", "maybe"),
                                             ("DEFAULT_LANGUAGE", "fr"), ("PORT", "eighty")])
def test_bad_values_name_the_setting(tmp_path, name, value):
    with pytest.raises(ConfigError) as caught:
        load_settings({"WORKBENCH_DATA_DIR": str(tmp_path), f"WORKBENCH_{name}": value})
    assert caught.value.key == "config.bad_value"
    assert caught.value.params["key"] == name.lower()


def test_broken_toml_is_reported(tmp_path):
    (tmp_path / "workbench.toml").write_text("port = = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings({"WORKBENCH_DATA_DIR": str(tmp_path)})
    assert caught.value.key == "config.bad_file"


def test_readme_documents_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = settings_markdown()
    assert table in readme, "README's settings table is stale: paste `workbench settings --markdown`"
    for setting in SETTINGS:
        assert f"WORKBENCH_{setting.name.upper()}" in table
