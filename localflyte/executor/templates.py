"""Template substitution and the environment a Flyte cluster gives a task container.

Ported in behaviour (not code) from flyteplugins ``go/tasks/pluginmachinery/core/template/template.go``
(``Render``) and ``flytek8s/k8s_resource_adds.go`` (``GetExecutionEnvVars``, ``DecorateEnvVars``).
Templates are case-insensitive, tolerate spaces inside the braces and accept ``.`` or ``$`` as the
leading sigil, as propeller's regexes do. ``{{ .remote_package_path }}`` / ``{{ .dest_dir }}`` are not
here: they are filled at registration, after the code bundle is uploaded.

Secrets a task template requests (``security_context.secrets``) are read from a local secret store
(``<dir>/<group>/<key>``, like a mounted K8s secret) and injected as flytekit's ``SecretsManager`` reads
them first: the variable ``_FSEC_<GROUP>_<KEY>`` (upper case, ``_<GROUP_VERSION>`` between when set).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flyteidl.core import literals_pb2, security_pb2

log = logging.getLogger(__name__)

# The empty previous checkpoint is rendered as two quote characters; flytekit reads that as "none".
NO_PREVIOUS_CHECKPOINT = '""'


def _template(name: str) -> re.Pattern[str]:
    return re.compile(r"\{\{\s*[.$]" + name + r"\s*\}\}", re.IGNORECASE)


_INPUT_FILE = _template("Input")
_INPUT_PREFIX = _template("InputPrefix")
_OUTPUT_PREFIX = _template("OutputPrefix")
_RAW_OUTPUT_DATA_PREFIX = _template("RawOutputDataPrefix")
_PREV_CHECKPOINT_PREFIX = _template("PrevCheckpointPrefix")
_CHECKPOINT_OUTPUT_PREFIX = _template("CheckpointOutputPrefix")
_PER_RETRY_UNIQUE_KEY = _template("PerRetryUniqueKey")
_NAMESPACE = _template("Namespace")
_INPUT_VALUE = re.compile(r"\{\{\s*[.$]Inputs\.(?P<name>[^}\s]+)\s*\}\}", re.IGNORECASE)


class TemplateError(ValueError):
    """A template in a task's command or args could not be rendered."""


@dataclass(frozen=True)
class TemplateValues:
    """What the executor knows about one task attempt, for rendering its command and args.

    :param input_path: the ``inputs.pb`` the task reads (``{{.input}}``).
    :param output_prefix: where the task writes ``outputs.pb`` / ``error.pb`` (``{{.outputPrefix}}``).
    :param raw_output_prefix: where the task writes offloaded data (``{{.rawOutputDataPrefix}}``).
    :param checkpoint_prefix: where this attempt writes checkpoints (``{{.checkpointOutputPrefix}}``).
    :param previous_checkpoint_prefix: the previous attempt's checkpoints, empty on the first attempt.
    :param per_retry_unique_key: a key unique to this attempt (``{{.perRetryUniqueKey}}``).
    :param namespace: the namespace the task would run in on a cluster (``{{.namespace}}``).
    :param inputs: the task's input values, for ``{{.inputs.<name>}}``.
    """

    input_path: str
    output_prefix: str
    raw_output_prefix: str
    checkpoint_prefix: str
    previous_checkpoint_prefix: str = ""
    per_retry_unique_key: str = ""
    namespace: str = ""
    inputs: literals_pb2.LiteralMap = field(default_factory=literals_pb2.LiteralMap)

    @property
    def input_prefix(self) -> str:
        return self.input_path.rsplit("/", 1)[0] if "/" in self.input_path else ""


def render(templates: Sequence[str], values: TemplateValues) -> list[str]:
    """Render every command/arg string; strings without templates are returned unchanged."""
    return [_render_one(template, values) for template in templates]


def _render_one(template: str, values: TemplateValues) -> str:
    # Same order as propeller; a callable replacement keeps backslashes in paths literal.
    replacements = (
        (_INPUT_FILE, values.input_path),
        (_OUTPUT_PREFIX, values.output_prefix),
        (_INPUT_PREFIX, values.input_prefix),
        (_RAW_OUTPUT_DATA_PREFIX, values.raw_output_prefix),
        (_PREV_CHECKPOINT_PREFIX, values.previous_checkpoint_prefix or NO_PREVIOUS_CHECKPOINT),
        (_CHECKPOINT_OUTPUT_PREFIX, values.checkpoint_prefix),
        (_PER_RETRY_UNIQUE_KEY, values.per_retry_unique_key),
        (_NAMESPACE, values.namespace),
    )
    rendered = template
    for pattern, value in replacements:
        rendered = pattern.sub(_literal(value), rendered)
    return _INPUT_VALUE.sub(lambda match: _input_value(match.group("name"), values.inputs, template), rendered)


def _literal(value: str) -> Callable[[re.Match[str]], str]:
    """A replacement that is used verbatim (``re.sub`` would expand backslashes in a string)."""
    return lambda _match: value


def _input_value(name: str, inputs: literals_pb2.LiteralMap, template: str) -> str:
    if name not in inputs.literals:
        raise TemplateError(f"template {template!r} names input {name!r}, which the task does not receive")
    return literal_to_template_string(inputs.literals[name], where=template)


def literal_to_template_string(literal: literals_pb2.Literal, where: str = "") -> str:
    """A literal as propeller's ``serializeLiteral`` prints it: primitives, blob/schema URIs, lists."""
    kind = literal.WhichOneof("value")
    if kind == "collection":
        items = [literal_to_template_string(item, where) for item in literal.collection.literals]
        return "[" + ",".join(items) + "]"
    if kind == "scalar":
        scalar = literal.scalar
        scalar_kind = scalar.WhichOneof("value")
        if scalar_kind == "primitive":
            return _primitive_to_string(scalar.primitive, where)
        if scalar_kind == "blob":
            return scalar.blob.uri
        if scalar_kind == "schema":
            return scalar.schema.uri
    raise TemplateError(f"{where}: only primitives, blobs, schemas and lists of them can be templated, got {kind}")


def _primitive_to_string(primitive: literals_pb2.Primitive, where: str) -> str:
    kind = primitive.WhichOneof("value")
    if kind == "integer":
        return str(primitive.integer)
    if kind == "boolean":
        return "true" if primitive.boolean else "false"  # Go's %v of a bool
    if kind == "float_value":
        return repr(primitive.float_value)
    if kind == "string_value":
        return primitive.string_value
    if kind == "datetime":
        return primitive.datetime.ToJsonString()
    if kind == "duration":
        return primitive.duration.ToJsonString()
    raise TemplateError(f"{where}: primitive without a value")


@dataclass(frozen=True)
class TaskIdentity:
    """Who runs: the execution, the task and the attempt, as a cluster tells the container."""

    execution_project: str
    execution_domain: str
    execution_name: str
    task_project: str
    task_domain: str
    task_name: str
    task_version: str
    attempt: int = 0
    workflow_name: str = ""


@dataclass(frozen=True)
class ClusterEnvironment:
    """The cluster-wide part of a task's environment: where FlyteAdmin and the blob store are.

    :param platform_url: FlyteAdmin's gRPC endpoint as seen from the task (``FLYTE_PLATFORM_URL``).
    :param platform_insecure: whether that endpoint is plaintext (``FLYTE_PLATFORM_INSECURE``).
    :param s3_endpoint: the S3 API the task's flytekit uses (``FLYTE_AWS_ENDPOINT``).
    :param extra: the platform's variables for every task (propeller's ``plugins.k8s.default-env-vars``,
        localflyte's ``serve --task-env``).
    :param secrets: where requested secrets are read from (``serve --secrets-dir``); None injects none.
    """

    platform_url: str
    platform_insecure: bool
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    extra: Mapping[str, str] = field(default_factory=dict)
    secrets: SecretStore | None = None


#: flytekit's ``SecretsConfig.env_prefix`` default, also what propeller's secret webhook injects.
SECRETS_ENV_PREFIX = "_FSEC_"
#: Tells flytekit the prefix in use (``Secrets.ENV_PREFIX``), as propeller's webhook does.
SECRETS_PREFIX_ENV = "FLYTE_SECRETS_ENV_PREFIX"


def secret_env_name(secret: security_pb2.Secret) -> str:
    """The variable flytekit's ``SecretsManager.get`` reads first: ``_FSEC_SLACK_BOT-TOKEN`` for slack/bot-token."""
    parts = [part.upper() for part in (secret.group, secret.group_version, secret.key) if part]
    return SECRETS_ENV_PREFIX + "_".join(parts)


@dataclass(frozen=True)
class SecretStore:
    """A local secret store: one file per secret, ``<root>/<group>[/<group_version>]/<key>``.

    The layout of a K8s secret mounted as files (and of flytekit's ``/etc/secrets``), so a directory
    can be filled with ``mkdir -p DIR/slack && printf %s "$TOKEN" > DIR/slack/bot-token``.
    Values are read at each task attempt (a rotated secret is seen by the next attempt) and never logged.
    """

    root: Path

    def path(self, secret: security_pb2.Secret) -> Path:
        parts = [part for part in (secret.group, secret.group_version, secret.key) if part]
        return self.root.joinpath(*parts)

    def read(self, secret: security_pb2.Secret) -> str | None:
        """The secret's value with surrounding whitespace stripped (as flytekit does); None when absent."""
        path = self.path(secret)
        if not secret.group or not secret.key or not path.resolve().is_relative_to(self.root.resolve()):
            return None  # a group or key like "../x" never reads outside the store
        try:
            return path.read_text().strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None


def secret_environment(requested: Sequence[security_pb2.Secret], store: SecretStore | None) -> dict[str, str]:
    """``{_FSEC_<GROUP>_<KEY>: value}`` for each requested secret the store holds.

    Every mount requirement (``ANY``, ``ENV_VAR``, ``FILE``) is served as a variable: flytekit's
    ``secrets.get`` reads the variable before any file. A secret the store lacks is left out with a
    warning naming it (propeller would not start the pod); the task's ``secrets.get`` then fails naming it too.
    """
    if store is None or not requested:
        return {}
    env = {SECRETS_PREFIX_ENV: SECRETS_ENV_PREFIX}
    for secret in requested:
        value = store.read(secret)
        if value is None:
            log.warning(
                "secret group=%s key=%s requested but not in the secret store: expected the file %s",
                secret.group, secret.key, store.path(secret),
            )  # fmt: skip
            continue
        env[secret_env_name(secret)] = value
    return env


def task_environment(
    identity: TaskIdentity,
    cluster: ClusterEnvironment,
    task_env: Mapping[str, str] | None = None,
    secrets: Sequence[security_pb2.Secret] = (),
) -> dict[str, str]:
    """The environment of one task attempt; the task's own variables override the injected ones.

    Same variables as propeller's ``DecorateEnvVars``; on a cluster duplicates resolve to the last one.
    Requested ``secrets`` come last, as propeller's secret webhook appends them to the pod.
    """
    env = {
        "FLYTE_INTERNAL_EXECUTION_ID": identity.execution_name,
        "FLYTE_INTERNAL_EXECUTION_PROJECT": identity.execution_project,
        "FLYTE_INTERNAL_EXECUTION_DOMAIN": identity.execution_domain,
        "FLYTE_ATTEMPT_NUMBER": str(identity.attempt),
        "FLYTE_INTERNAL_TASK_PROJECT": identity.task_project,
        "FLYTE_INTERNAL_TASK_DOMAIN": identity.task_domain,
        "FLYTE_INTERNAL_TASK_NAME": identity.task_name,
        "FLYTE_INTERNAL_TASK_VERSION": identity.task_version,
        "FLYTE_PLATFORM_URL": cluster.platform_url,
        "FLYTE_PLATFORM_INSECURE": "True" if cluster.platform_insecure else "False",
        "FLYTE_AWS_ENDPOINT": cluster.s3_endpoint,
        "FLYTE_AWS_ACCESS_KEY_ID": cluster.s3_access_key,
        "FLYTE_AWS_SECRET_ACCESS_KEY": cluster.s3_secret_key,
    }
    if identity.workflow_name:
        env["FLYTE_INTERNAL_EXECUTION_WORKFLOW"] = identity.workflow_name
    env.update(cluster.extra)
    env.update(task_env or {})
    env.update(secret_environment(secrets, cluster.secrets))
    return env
