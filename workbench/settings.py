"""Every setting of the workbench, declared once.

A setting is read, in order of precedence, from the environment (``WORKBENCH_<NAME>``), then from
an optional TOML file (``WORKBENCH_CONFIG`` or ``<data dir>/workbench.toml``), then its default.
Unknown keys in the file or unknown ``WORKBENCH_*`` variables are an error, because a typo in a
hospital's deployment must not silently fall back to a default. The README table is generated from
:data:`SETTINGS` (``workbench settings --markdown``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.errors import ConfigError

__all__ = ["Setting", "SETTINGS", "Settings", "default_settings", "load_settings", "settings_markdown", "ENV_PREFIX"]

ENV_PREFIX = "WORKBENCH_"
# Variables that configure the loader itself or the tests, not the application.
_LOADER_VARIABLES = {"WORKBENCH_CONFIG", "WORKBENCH_SHARED_DATASETS"}


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in options:
            raise ValueError("expected one of " + ", ".join(options))
        return value

    parse.__name__ = "one of " + "|".join(options)
    return parse


def _positive_int(text: str) -> int:
    value = int(str(text).strip())
    if value <= 0:
        raise ValueError("expected a positive whole number")
    return value


def _text(text: str) -> str:
    return str(text)


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    type_name: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", _text, "./workbench-data", "Folder for the SQLite database, the artifact store and logs. Created on first start.", "path"),
    Setting("database_url", _text, "", "SQLAlchemy URL of the database. Empty: SQLite in the data folder. PostgreSQL: `postgresql+psycopg://user:pass@host/db` (install the `postgres` extra).", "url", secret=True),
    Setting("dask_scheduler", _text, "", "Address of an existing Dask scheduler (`tcp://host:8786`). Empty: `workbench serve` starts a local cluster.", "address"),
    Setting("dask_workers", _positive_int, 1, "Worker processes of the local cluster started by `workbench serve`.", "int"),
    Setting("dask_threads_per_worker", _positive_int, 2, "Threads per local worker process.", "int"),
    Setting("max_training_seconds", _positive_int, 3600, "Longest time budget of one training run, in seconds. Recommended budgets above it are lowered to it (the page says so); a larger budget typed by a data scientist is refused; a run with a trial budget starts no trial after this many seconds (it keeps the trials done and says so). Lets a shared server bound how long one run holds the workers.", "int"),
    Setting("dask_train_rows", _positive_int, 500_000, "Analysis tables with at least this many rows train on the Dask workers (`xgboost.dask` / `lightgbm.dask`, Optuna trials in parallel, one holdout validation part instead of k folds). A data scientist may ask for it on a smaller table.", "int"),
    Setting("admin_password", _text, "", "Password of the first admin account, used once when the database is created. Empty: a password is generated and printed once on the console.", "secret", secret=True),
    Setting("admin_username", _text, "admin", "User name of the first admin account.", "text"),
    Setting("max_upload_mb", _positive_int, 1024, "Largest file a user may upload, in megabytes.", "int"),
    Setting("session_idle_minutes", _positive_int, 30, "A signed-in session ends after this many minutes without activity.", "int"),
    Setting("session_absolute_hours", _positive_int, 12, "A signed-in session ends this many hours after sign-in, active or not.", "int"),
    Setting("compute", _choice("auto", "cpu", "gpu"), "auto", "Where models train: `auto` uses a CUDA GPU when a probe finds one, `cpu` never does, `gpu` refuses to train without one.", "auto|cpu|gpu"),
    Setting("default_language", _choice("en", "ko"), "en", "Language of the interface when the browser does not ask for English or Korean.", "en|ko"),
    Setting("demo_project", _bool, True, "Create the demo project (heart failure dataset) on first start.", "bool"),
    Setting("job_heartbeat_seconds", _positive_int, 5, "How often a running job reports that it is alive.", "int"),
    Setting("job_stale_seconds", _positive_int, 60, "A running job with no heartbeat for this long is marked failed (its worker died).", "int"),
    Setting("bootstrap_resamples", _positive_int, 1000, "Bootstrap resamples for confidence intervals.", "int"),
    Setting("port", _positive_int, 8501, "Port of the web server (`workbench serve --port` overrides it).", "int"),
    Setting("address", _text, "127.0.0.1", "Interface the web server listens on. Use 0.0.0.0 only behind a TLS reverse proxy.", "host"),
    # Single sign-on (OpenID Connect through Streamlit's st.login). Empty metadata URL: SSO is off.
    Setting("sso_server_metadata_url", _text, "", "OpenID Connect discovery URL of the hospital's identity provider (`https://idp.example/.well-known/openid-configuration`). Empty: single sign-on is off and only local accounts sign in.", "url"),
    Setting("sso_client_id", _text, "", "Client ID the identity provider issued for the workbench.", "text"),
    Setting("sso_client_secret", _text, "", "Client secret the identity provider issued for the workbench.", "secret", secret=True),
    Setting("sso_redirect_uri", _text, "", "Address the provider sends people back to; must end in `/oauth2callback` and be registered with the provider. Empty: `http://localhost:<port>/oauth2callback`.", "url"),
    Setting("sso_cookie_secret", _text, "", "Key that signs Streamlit's short-lived identity cookie. Empty: a random key at each start.", "secret", secret=True),
    Setting("sso_label", _text, "", "Name of the provider on the sign-in button (`Sign in with <label>`). Empty: `Sign in with single sign-on`.", "text"),
    Setting("invitation_days", _positive_int, 14, "Days an owner's e-mail invitation (single sign-on) can be redeemed; after that the owner invites again. The membership's own expiry is set separately.", "int"),
)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Attribute access by name; ``source`` says where each value came from."""

    values: Mapping[str, Any]
    source: Mapping[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def data_path(self) -> Path:
        return Path(self.values["data_dir"]).expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.values["database_url"] or f"sqlite:///{self.data_path / 'workbench.db'}"

    @property
    def sso_enabled(self) -> bool:
        """Single sign-on is offered when an identity provider is configured."""
        return bool(self.values.get("sso_server_metadata_url"))

    def replace(self, **changes: Any) -> Settings:
        for key in changes:
            if key not in _BY_NAME:
                raise ConfigError("config.unknown_key", key=key, known=sorted(_BY_NAME))
        return Settings({**self.values, **changes}, {**self.source, **{k: "code" for k in changes}})


def default_settings(**values: Any) -> Settings:
    """Every default, with ``values`` on top, ignoring the environment (workers, tests, scripts)."""
    return Settings({s.name: s.default for s in SETTINGS}).replace(**values)


def _parse(setting: Setting, raw: Any, origin: str) -> Any:
    try:
        return setting.parse(raw if isinstance(raw, str) else str(raw).lower() if isinstance(raw, bool) else str(raw))
    except (ValueError, TypeError) as exc:
        raise ConfigError("config.bad_value", key=setting.name, origin=origin, value=str(raw)[:80], reason=str(exc)) from None


def load_settings(environ: Mapping[str, str] | None = None, *, config_file: Path | None = None) -> Settings:
    """Resolve every setting; raise ConfigError on unknown keys or unparsable values."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    source: dict[str, str] = {}

    unknown_env = [k for k in env if k.startswith(ENV_PREFIX) and k not in _LOADER_VARIABLES
                   and k[len(ENV_PREFIX):].lower() not in _BY_NAME]
    if unknown_env:
        raise ConfigError("config.unknown_key", key=", ".join(sorted(unknown_env)), known=sorted(_BY_NAME))

    data_dir = env.get(ENV_PREFIX + "DATA_DIR", _BY_NAME["data_dir"].default)
    path = config_file or (Path(env[ENV_PREFIX + "CONFIG"]) if env.get(ENV_PREFIX + "CONFIG") else Path(data_dir).expanduser() / "workbench.toml")
    file_values: dict[str, Any] = {}
    if path.is_file():
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("config.bad_file", path=str(path), reason=str(exc)) from None
        unknown = [k for k in file_values if k not in _BY_NAME]
        if unknown:
            raise ConfigError("config.unknown_key", key=", ".join(sorted(unknown)), known=sorted(_BY_NAME))
    elif config_file is not None or env.get(ENV_PREFIX + "CONFIG"):
        raise ConfigError("config.missing_file", path=str(path))

    for setting in SETTINGS:
        env_key = ENV_PREFIX + setting.name.upper()
        if env_key in env:
            values[setting.name] = _parse(setting, env[env_key], env_key)
            source[setting.name] = "environment"
        elif setting.name in file_values:
            values[setting.name] = _parse(setting, file_values[setting.name], str(path))
            source[setting.name] = str(path)
        else:
            values[setting.name] = setting.default
            source[setting.name] = "default"
    return Settings(values, source)


def settings_markdown() -> str:
    """The README's settings table."""
    lines = ["| variable | type | default | what it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "(empty)" if s.default == "" else f"`{s.default}`"
        lines.append(f"| `{ENV_PREFIX}{s.name.upper()}` | {s.type_name} | {default} | {s.help} |")
    return "\n".join(lines)
