"""The platform's part of a task's environment: ``--task-env`` variables and requested secrets.

Secrets are checked against flytekit's own ``SecretsManager``: what localflyte injects is what a
task's ``current_context().secrets.get(group, key)`` reads.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flyteidl.core import security_pb2
from flytekit.configuration import SecretsConfig
from flytekit.core.context_manager import SecretsManager

from localflyte.app import executor_settings
from localflyte.cli import _parser, settings_from_args
from localflyte.executor.templates import (
    ClusterEnvironment,
    SecretStore,
    TaskIdentity,
    secret_env_name,
    secret_environment,
    task_environment,
)

pytestmark = pytest.mark.unit

IDENTITY = TaskIdentity("p", "development", "e1", "p", "development", "tasks.notify.post", "v1")
TOKEN = "xoxb-not-a-real-token"


def _secret(group: str, key: str, version: str = "", mount: int = security_pb2.Secret.ANY) -> security_pb2.Secret:
    return security_pb2.Secret(group=group, key=key, group_version=version, mount_requirement=mount)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> SecretStore:
    (tmp_path / "slack").mkdir()
    (tmp_path / "slack" / "bot-token").write_text(TOKEN + "\n")
    (tmp_path / "registry" / "v2").mkdir(parents=True)
    (tmp_path / "registry" / "v2" / "password").write_text("pw")
    return SecretStore(tmp_path)


@pytest.mark.parametrize(
    ("secret", "name"),
    [
        (_secret("slack", "bot-token"), "_FSEC_SLACK_BOT-TOKEN"),
        (_secret("registry", "password", "v2"), "_FSEC_REGISTRY_V2_PASSWORD"),
        (_secret("Aws", "key_id"), "_FSEC_AWS_KEY_ID"),
    ],
)
def test_secret_env_name_is_the_variable_flytekit_reads(secret: security_pb2.Secret, name: str) -> None:
    assert secret_env_name(secret) == name
    manager = SecretsManager(SecretsConfig())
    assert manager.get_secrets_env_var(secret.group, secret.key, secret.group_version or None) == name


@pytest.mark.parametrize("mount", [security_pb2.Secret.ANY, security_pb2.Secret.ENV_VAR, security_pb2.Secret.FILE])
def test_requested_secret_reaches_flytekit_secrets_get(
    store: SecretStore, mount: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = secret_environment([_secret("slack", "bot-token", mount=mount)], store)
    assert env == {"FLYTE_SECRETS_ENV_PREFIX": "_FSEC_", "_FSEC_SLACK_BOT-TOKEN": TOKEN}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # A default dir with nothing in it: the value can only come from the injected variable.
    manager = SecretsManager(SecretsConfig(default_dir=str(store.root / "nowhere")))
    assert manager.get("slack", "bot-token") == TOKEN


def test_only_requested_secrets_are_injected(store: SecretStore) -> None:
    env = secret_environment([_secret("registry", "password", "v2")], store)
    assert env == {"FLYTE_SECRETS_ENV_PREFIX": "_FSEC_", "_FSEC_REGISTRY_V2_PASSWORD": "pw"}
    assert secret_environment([], store) == {}
    assert secret_environment([_secret("slack", "bot-token")], None) == {}, "no store, nothing injected"


def test_missing_secret_is_left_out_with_a_warning_naming_it_not_its_value(
    store: SecretStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="localflyte.executor.templates"):
        env = secret_environment([_secret("slack", "webhook"), _secret("slack", "bot-token")], store)
    assert env == {"FLYTE_SECRETS_ENV_PREFIX": "_FSEC_", "_FSEC_SLACK_BOT-TOKEN": TOKEN}
    assert "group=slack key=webhook" in caplog.text
    assert str(store.root / "slack" / "webhook") in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(("group", "key"), [("..", "etc"), ("slack", "../../outside"), ("", "bot-token")])
def test_store_never_reads_outside_its_directory(tmp_path: Path, group: str, key: str) -> None:
    (tmp_path / "outside").write_text("not a secret of the store")
    (tmp_path / "store" / "slack").mkdir(parents=True)
    assert SecretStore(tmp_path / "store").read(_secret(group, key)) is None


def test_task_environment_layers_platform_env_task_env_and_secrets(store: SecretStore) -> None:
    cluster = ClusterEnvironment(
        "127.0.0.1:30080", True, "http://127.0.0.1:30002", "testing", "testing",
        extra={"DOCKER_HOST": "tcp://127.0.0.1:2375", "TAXIWAY_REGISTRY": "127.0.0.1:30000", "SHARED": "platform"},
        secrets=store,
    )  # fmt: skip
    env = task_environment(IDENTITY, cluster, {"SHARED": "task"}, secrets=[_secret("slack", "bot-token")])
    assert env["DOCKER_HOST"] == "tcp://127.0.0.1:2375"
    assert env["TAXIWAY_REGISTRY"] == "127.0.0.1:30000"
    assert env["SHARED"] == "task", "the task's own variables win over the platform's"
    assert env["_FSEC_SLACK_BOT-TOKEN"] == TOKEN
    assert env["FLYTE_PLATFORM_URL"] == "127.0.0.1:30080"
    assert "_FSEC_SLACK_BOT-TOKEN" not in task_environment(IDENTITY, cluster, {}), "not requested, not injected"


def test_serve_flags_reach_the_cluster_environment(store: SecretStore, tmp_path: Path) -> None:
    arguments = _parser().parse_args(
        ["serve", "--state-dir", str(tmp_path / "state"), "--task-env", "DOCKER_HOST=tcp://127.0.0.1:2375",
         "--task-env", "QUERY=a=b", "--task-env", "EMPTY=", "--secrets-dir", str(store.root)]
    )  # fmt: skip
    settings = settings_from_args(arguments)
    assert dict(settings.task_env) == {"DOCKER_HOST": "tcp://127.0.0.1:2375", "QUERY": "a=b", "EMPTY": ""}
    cluster = executor_settings(settings, 30080, "http://127.0.0.1:30081").cluster
    assert cluster.extra == {"FLYTE_PLATFORM_CONSOLE_ENDPOINT": "http://127.0.0.1:30081", **settings.task_env}
    assert cluster.secrets == SecretStore(store.root.resolve())


@pytest.mark.parametrize("pair", ["NOEQUALS", "=value", "BAD NAME=1", "1X=2"])
def test_bad_task_env_is_refused_naming_the_form(pair: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--task-env", pair])
    assert "expected NAME=VALUE" in capsys.readouterr().err


def test_missing_secrets_dir_is_refused_at_start(tmp_path: Path) -> None:
    arguments = _parser().parse_args(["serve", "--secrets-dir", str(tmp_path / "absent")])
    with pytest.raises(ValueError, match="is not a directory"):
        executor_settings(settings_from_args(arguments), 30080, "http://127.0.0.1:30081")
