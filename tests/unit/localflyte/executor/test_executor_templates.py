"""Template substitution and injected environment, as propeller renders a task's command and args."""

from __future__ import annotations

import pytest
from flyteidl.core import literals_pb2

from localflyte.executor.templates import (
    ClusterEnvironment,
    TaskIdentity,
    TemplateError,
    TemplateValues,
    render,
    task_environment,
)

pytestmark = pytest.mark.unit


def _int(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


VALUES = TemplateValues(
    input_path="s3://b/meta/n0/data/inputs.pb",
    output_prefix="s3://b/meta/n0/data/0",
    raw_output_prefix="s3://b/raw/n0/0",
    checkpoint_prefix="s3://b/raw/n0/0/_flytecheckpoints",
    per_retry_unique_key="exec-n0-0",
    namespace="flytesnacks-development",
    inputs=literals_pb2.LiteralMap(
        literals={
            "n": _int(3),
            "names": literals_pb2.Literal(
                collection=literals_pb2.LiteralCollection(
                    literals=[
                        literals_pb2.Literal(
                            scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=name))
                        )
                        for name in ("a", "b")
                    ]
                )
            ),
            "flag": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(boolean=True))),
        }
    ),
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{.input}}", "s3://b/meta/n0/data/inputs.pb"),
        ("{{ .Input }}", "s3://b/meta/n0/data/inputs.pb"),
        ("{{$input}}", "s3://b/meta/n0/data/inputs.pb"),
        ("{{.inputPrefix}}", "s3://b/meta/n0/data"),
        ("{{.outputPrefix}}", "s3://b/meta/n0/data/0"),
        ("{{  .OUTPUTPREFIX  }}", "s3://b/meta/n0/data/0"),
        ("{{.rawOutputDataPrefix}}", "s3://b/raw/n0/0"),
        ("{{.checkpointOutputPrefix}}", "s3://b/raw/n0/0/_flytecheckpoints"),
        ("{{.prevCheckpointPrefix}}", '""'),
        ("{{.perRetryUniqueKey}}", "exec-n0-0"),
        ("{{.namespace}}", "flytesnacks-development"),
        ("--out={{.outputPrefix}}/x", "--out=s3://b/meta/n0/data/0/x"),
        ("{{.inputs.n}}", "3"),
        ("{{ .Inputs.names }}", "[a,b]"),
        ("{{.inputs.flag}}", "true"),
        ("{{ .remote_package_path }}", "{{ .remote_package_path }}"),  # filled at registration, not here
        ("pyflyte-execute", "pyflyte-execute"),
    ],
)
def test_render(template: str, expected: str) -> None:
    assert render([template], VALUES) == [expected]


def test_previous_checkpoint_when_there_is_one() -> None:
    values = TemplateValues(
        input_path="i",
        output_prefix="o",
        raw_output_prefix="r",
        checkpoint_prefix="c1",
        previous_checkpoint_prefix="c0",
    )
    assert render(["{{.prevCheckpointPrefix}}", "{{.checkpointOutputPrefix}}"], values) == ["c0", "c1"]


def test_backslashes_in_values_are_kept_verbatim() -> None:
    values = TemplateValues(input_path=r"C:\in\1", output_prefix="o", raw_output_prefix="r", checkpoint_prefix="c")
    assert render(["{{.input}}"], values) == [r"C:\in\1"]


def test_unknown_input_is_an_error_naming_it() -> None:
    with pytest.raises(TemplateError, match="'missing'"):
        render(["{{.inputs.missing}}"], VALUES)


def test_task_environment_injects_identity_cluster_and_task_env() -> None:
    identity = TaskIdentity(
        execution_project="flytesnacks",
        execution_domain="staging",
        execution_name="e1",
        task_project="flytesnacks",
        task_domain="development",
        task_name="pkg.mod.task",
        task_version="v7",
        attempt=2,
        workflow_name="pkg.mod.wf",
    )
    cluster = ClusterEnvironment(
        platform_url="127.0.0.1:30080",
        platform_insecure=True,
        s3_endpoint="http://127.0.0.1:30002",
        s3_access_key="ak",
        s3_secret_key="sk",
    )
    env = task_environment(identity, cluster, {"MY_VAR": "1", "FLYTE_ATTEMPT_NUMBER": "overridden"})

    assert env["FLYTE_INTERNAL_EXECUTION_ID"] == "e1"
    assert env["FLYTE_INTERNAL_EXECUTION_PROJECT"] == "flytesnacks"
    assert env["FLYTE_INTERNAL_EXECUTION_DOMAIN"] == "staging"
    assert env["FLYTE_INTERNAL_EXECUTION_WORKFLOW"] == "pkg.mod.wf"
    assert (env["FLYTE_INTERNAL_TASK_DOMAIN"], env["FLYTE_INTERNAL_TASK_NAME"]) == ("development", "pkg.mod.task")
    assert env["FLYTE_INTERNAL_TASK_VERSION"] == "v7"
    assert env["FLYTE_PLATFORM_URL"] == "127.0.0.1:30080"
    assert env["FLYTE_PLATFORM_INSECURE"] == "True"
    assert env["FLYTE_AWS_ENDPOINT"] == "http://127.0.0.1:30002"
    assert (env["FLYTE_AWS_ACCESS_KEY_ID"], env["FLYTE_AWS_SECRET_ACCESS_KEY"]) == ("ak", "sk")
    assert env["MY_VAR"] == "1"
    assert env["FLYTE_ATTEMPT_NUMBER"] == "overridden"  # the task's own variables come last
