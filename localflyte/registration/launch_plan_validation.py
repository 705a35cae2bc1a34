"""Launch plan validation against the workflow interface: flyteadmin
``pkg/manager/impl/validation/launch_plan_validator.go`` (and ``validateLiteralMap`` /
``validateParameterMap`` in ``validation.go``), with its messages.
"""

from __future__ import annotations

import re

from croniter import croniter
from flyteidl.admin import launch_plan_pb2
from flyteidl.core import interface_pb2, literals_pb2, types_pb2

from localflyte.errors import invalid_argument
from localflyte.registration import types
from localflyte.registration.validation import validate_labels

FIXED_INPUTS = "fixed_inputs"
DEFAULT_INPUTS = "default_inputs"
# robfig/cron ParseStandard descriptors.
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_EVERY = re.compile(r"^@every\s+(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")


def cron_error(expression: str) -> str | None:
    """Why ``expression`` is not a standard (5-field) cron expression, or ``None`` when it is."""
    text = re.sub(r"^(CRON_)?TZ=\S+\s+", "", expression.strip())
    if text in _DESCRIPTORS or _EVERY.match(text):
        return None
    if text.startswith("@"):
        return f"unrecognized descriptor: {text}"
    fields = text.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{text}]"
    if not croniter.is_valid(text):
        return f"failed to parse cron expression: {text}"
    return None


def _validate_literal_map(literals: literals_pb2.LiteralMap, field: str) -> None:
    for name in sorted(literals.literals):
        literal = literals.literals[name]
        if name == "":
            raise invalid_argument(f"missing key in {field}")
        if literal.WhichOneof("value") is None:
            raise invalid_argument(f"missing valid literal in {field} {name}")


def _validate_parameter_map(parameters: interface_pb2.ParameterMap, field: str) -> None:
    for name in sorted(parameters.parameters):
        parameter = parameters.parameters[name]
        behavior = parameter.WhichOneof("behavior")
        if behavior in ("artifact_query", "artifact_id"):
            raise invalid_argument(f"artifact mode not enabled but query found {field} {name}")
        if name == "":
            raise invalid_argument(f"missing key in {field}")
        if not parameter.HasField("var") or not parameter.var.HasField("type"):
            raise invalid_argument(
                f"The Variable component of the Parameter {name} in {field} either is missing, or has a missing Type"
            )
        if behavior != "default" and not parameter.required:
            raise invalid_argument(
                f"Invalid variable {name} in {field} - variable has neither default, nor is required. "
                "One must be specified"
            )
        if behavior == "default":
            value_type = types.literal_type_for_literal(parameter.default)
            if not types.are_types_castable(value_type, parameter.var.type):
                raise invalid_argument(
                    f"Type mismatch for Parameter {name} in {field} has type {types.go_text(parameter.var.type)}, "
                    f"expected {types.go_text(value_type or types_pb2.LiteralType())}"
                )


def expected_inputs(
    workflow_inputs: interface_pb2.VariableMap,
    fixed: literals_pb2.LiteralMap,
    defaults: interface_pb2.ParameterMap,
) -> interface_pb2.ParameterMap:
    """``checkAndFetchExpectedInputForLaunchPlan``: defaults and fixed inputs must be workflow inputs of a
    castable type; the result is the launch plan's defaults plus every unbound workflow input, required."""
    expected = interface_pb2.ParameterMap()
    variables = workflow_inputs.variables
    if not variables:
        if defaults.parameters:
            raise invalid_argument(
                f"invalid launch plan default inputs, expected none but found {len(defaults.parameters)}"
            )
        if fixed.literals:
            raise invalid_argument(f"invalid launch plan fixed inputs, expected none but found {len(fixed.literals)}")
        return expected
    for name in sorted(defaults.parameters):
        parameter = defaults.parameters[name]
        if name not in variables:
            raise invalid_argument(f"unexpected default_input {name}")
        if not types.are_types_castable(parameter.var.type, variables[name].type):
            raise invalid_argument(
                f"invalid default_input wrong type {name}, expected {types.go_text(parameter.var.type)}, "
                f"got {types.go_text(variables[name].type)} instead"
            )
    for name in sorted(fixed.literals):
        if name not in variables:
            raise invalid_argument(f"unexpected fixed_input {name}")
        value_type = types.literal_type_for_literal(fixed.literals[name])
        if not types.are_types_castable(value_type, variables[name].type):
            raise invalid_argument(
                f"invalid fixed_input wrong type {name}, expected {types.go_text(variables[name].type)}, "
                f"got {types.go_text(value_type or types_pb2.LiteralType())} instead"
            )
    for name, variable in variables.items():
        if name in defaults.parameters:
            expected.parameters[name].CopyFrom(defaults.parameters[name])
        elif name not in fixed.literals:
            parameter = expected.parameters[name]
            parameter.var.type.CopyFrom(variable.type)
            parameter.var.description = variable.description
            parameter.required = True
    return expected


def _validate_schedule(spec: launch_plan_pb2.LaunchPlanSpec, expected: interface_pb2.ParameterMap) -> None:
    schedule = spec.entity_metadata.schedule
    scheduled = schedule.cron_expression or schedule.HasField("rate") or schedule.HasField("cron_schedule")
    if not scheduled:
        return
    kickoff = schedule.kickoff_time_input_arg
    for name in sorted(expected.parameters):
        if expected.parameters[name].required and name != kickoff:
            raise invalid_argument(
                "Cannot create a launch plan with a schedule if there is an unbound required input. "
                f"[{name}] is required"
            )
    if kickoff:
        if kickoff not in expected.parameters:
            raise invalid_argument(
                "Cannot create a schedule with a KickoffTimeInputArg that does not point to a free input. "
                f"[{kickoff}] is not free or does not exist."
            )
        kickoff_type = expected.parameters[kickoff].var.type
        if kickoff_type.simple != types_pb2.SimpleType.DATETIME:
            raise invalid_argument(
                f"KickoffTimeInputArg must reference a datetime input. [{kickoff}] is a [{types.go_text(kickoff_type)}]"
            )
    expression = schedule.cron_expression or schedule.cron_schedule.schedule
    if expression and (error := cron_error(expression)):
        raise invalid_argument(f"Invalid cron expression: {error}")


def validate_launch_plan_spec(
    spec: launch_plan_pb2.LaunchPlanSpec, workflow_interface: interface_pb2.TypedInterface
) -> None:
    """``ValidateLaunchPlan`` after the identifier checks; augments ``spec.default_inputs`` in place."""
    validate_labels(dict(spec.labels.values))
    _validate_literal_map(spec.fixed_inputs, FIXED_INPUTS)
    _validate_parameter_map(spec.default_inputs, DEFAULT_INPUTS)
    expected = expected_inputs(workflow_interface.inputs, spec.fixed_inputs, spec.default_inputs)
    _validate_schedule(spec, expected)
    spec.default_inputs.CopyFrom(expected)
    if spec.entity_metadata.HasField("launch_conditions"):
        raise invalid_argument(f"Launch condition must be empty, found {spec.entity_metadata.launch_conditions}")
