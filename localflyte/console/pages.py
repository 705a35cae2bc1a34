"""Pages for projects, domains, launch plans and registered tasks/workflows (pure: protos in, markup out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from flyteidl.admin import execution_pb2, launch_plan_pb2, project_pb2, schedule_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, interface_pb2
from google.protobuf import timestamp_pb2

from localflyte.console import literals
from localflyte.console.html import Html, crumbs, join, link, path, phase_badge, table, tag

_RATE_UNITS = {schedule_pb2.MINUTE: "minute", schedule_pb2.HOUR: "hour", schedule_pb2.DAY: "day"}


def when(stamp: timestamp_pb2.Timestamp) -> str:
    if not stamp.seconds and not stamp.nanos:
        return ""
    return datetime.fromtimestamp(stamp.seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def execution_phase(execution: execution_pb2.Execution) -> str:
    return core_execution_pb2.WorkflowExecution.Phase.Name(execution.closure.phase)


def schedule_text(spec: launch_plan_pb2.LaunchPlanSpec) -> str:
    """``cron 0 2 * * *`` / ``every 2 hour`` / ``""`` for a launch plan without a schedule."""
    if not spec.entity_metadata.HasField("schedule"):
        return ""
    schedule = spec.entity_metadata.schedule
    if schedule.cron_schedule.schedule:
        return f"cron {schedule.cron_schedule.schedule}"
    if schedule.cron_expression:
        return f"cron {schedule.cron_expression}"
    if schedule.rate.value:
        return f"every {schedule.rate.value} {_RATE_UNITS.get(schedule.rate.unit, '?')}"
    return ""


def is_active(plan: launch_plan_pb2.LaunchPlan) -> bool:
    return plan.closure.state == launch_plan_pb2.ACTIVE


def home(projects: Sequence[project_pb2.Project], domains: Sequence[project_pb2.Domain]) -> Html:
    rows = [
        [tag("b", project.name or project.id), tag("code", project.id),
         Html(" · ".join(
             link(path("projects", project.id, "domains", domain.id), domain.name or domain.id) for domain in domains
         ))]
        for project in projects
    ]  # fmt: skip
    return join([tag("h1", "Projects"), table(["project", "id", "domains"], rows, "no projects registered")])


def project_page(project: str, domains: Sequence[project_pb2.Domain]) -> Html:
    items = join(tag("li", link(path("projects", project, "domains", d.id), d.name or d.id)) for d in domains)
    return join([crumbs(("projects", "/console"), (project, "")), tag("h1", project), tag("ul", items)])


def execution_row(execution: execution_pb2.Execution) -> list[Html | str]:
    identifier = execution.id
    launched = execution.spec.launch_plan
    return [
        link(path("projects", identifier.project, "domains", identifier.domain, "executions", identifier.name),
             identifier.name),
        launched.name,
        phase_badge(execution_phase(execution)),
        when(execution.closure.created_at),
    ]  # fmt: skip


@dataclass(frozen=True)
class LaunchPlanSummary:
    """One launch-plan name in a domain: its active version (if any) and its newest version."""

    name: str
    active: launch_plan_pb2.LaunchPlan | None
    newest: launch_plan_pb2.LaunchPlan | None


def domain_page(
    project: str, domain: str, plans: Sequence[LaunchPlanSummary], executions: Sequence[execution_pb2.Execution]
) -> Html:
    plan_rows = []
    for plan in plans:
        shown = plan.active or plan.newest
        plan_rows.append([
            link(path("projects", project, "domains", domain, "launch_plans", plan.name), plan.name),
            tag("code", plan.active.id.version) if plan.active else tag("span", "none active", class_="muted"),
            schedule_text(shown.spec) if shown else "",
            tag("code", plan.newest.id.version) if plan.newest else "",
        ])  # fmt: skip
    return join([
        crumbs(("projects", "/console"), (project, path("projects", project)), (domain, "")),
        tag("h1", f"{project} · {domain}"),
        tag("h2", "Launch plans"),
        table(["launch plan", "active version", "schedule", "newest version"], plan_rows, "no launch plans"),
        tag("h2", "Recent executions"),
        table(["execution", "launch plan", "phase", "created"], [execution_row(e) for e in executions],
              "no executions yet"),
    ])  # fmt: skip


def _parameters_table(parameters: Mapping[str, interface_pb2.Parameter]) -> Html:
    rows = []
    for name, parameter in sorted(parameters.items()):
        default = literals.render(parameter.default) if parameter.HasField("default") else ""
        required = "required" if parameter.required and not parameter.HasField("default") else ""
        rows.append([tag("code", name), literals.type_name(parameter.var.type), default, required])
    return table(["input", "type", "default", ""], rows, "no inputs")


def launch_form(plan: launch_plan_pb2.LaunchPlan, action: str, values: Mapping[str, str] | None = None) -> Html:
    """The Launch form: editable scalars as text boxes; other inputs keep their launch-plan defaults."""
    fields: list[Html] = [tag("input", "", type="hidden", name="version", value=plan.id.version)]
    blocked: list[str] = []
    for name, parameter in sorted(plan.spec.default_inputs.parameters.items()):
        has_default = parameter.HasField("default")
        if literals.is_editable(parameter.var.type):
            text = (values or {}).get(name, literals.form_text(parameter.default) if has_default else "")
            box = tag("input", "", type="text", name=f"input.{name}", value=text, id=f"input-{name}")
            label = join([tag("code", name), f" ({literals.type_name(parameter.var.type)}) ", box])
            fields.append(tag("label", label, for_=f"input-{name}"))
        elif has_default:
            fields.append(tag("p", join([tag("code", name), " uses its default value"]), class_="muted"))
        else:
            blocked.append(name)
    if blocked:
        reason = f"cannot launch from the console: {', '.join(blocked)} has no default and cannot be typed here"
        return tag("p", reason + " (launch it with FlyteRemote or pyflyte)", class_="error")
    fields.append(tag("button", "Launch", type="submit", id="launch"))
    return tag("form", join(fields), method="post", action=action, class_="launch")


def launch_plan_page(
    plan: launch_plan_pb2.LaunchPlan,
    versions: Sequence[launch_plan_pb2.LaunchPlan],
    error: str = "",
    values: Mapping[str, str] | None = None,
) -> Html:
    ident = plan.id
    base = ("projects", ident.project, "domains", ident.domain, "launch_plans", ident.name)
    version_rows = [
        [link(path(*base) + "?version=" + quote(v.id.version, safe=""), v.id.version),
         tag("b", "ACTIVE") if is_active(v) else "inactive", schedule_text(v.spec), when(v.closure.created_at)]
        for v in versions
    ]  # fmt: skip
    workflow = plan.spec.workflow_id
    workflow_url = path("projects", workflow.project, "domains", workflow.domain, "workflow", workflow.name,
                        "version", workflow.version)  # fmt: skip
    fixed = [(name, text) for name, text in literals.render_map(plan.spec.fixed_inputs)]
    return join([
        crumbs(("projects", "/console"), (ident.project, path("projects", ident.project)),
               (ident.domain, path("projects", ident.project, "domains", ident.domain)), (ident.name, "")),
        tag("h1", ident.name),
        tag("p", join(["version ", tag("code", ident.version), " · ", "ACTIVE" if is_active(plan) else "inactive",
                       " · workflow ", link(workflow_url, f"{workflow.name}@{workflow.version}"),
                       f" · schedule: {schedule_text(plan.spec) or 'none'}"])),
        tag("div", error, class_="error") if error else Html(""),
        tag("h2", "Launch"),
        launch_form(plan, path(*base, "launch"), values),
        tag("h2", "Default inputs"),
        _parameters_table(plan.spec.default_inputs.parameters),
        tag("h2", "Fixed inputs"),
        table(["input", "value"], [[tag("code", n), t] for n, t in fixed], "none"),
        tag("h2", "Versions"),
        table(["version", "state", "schedule", "created"], version_rows),
    ])  # fmt: skip


def _variables(variables: Mapping[str, interface_pb2.Variable]) -> Html:
    rows = [[tag("code", name), literals.type_name(v.type), v.description] for name, v in sorted(variables.items())]
    return table(["name", "type", "description"], rows)


def entity_page(identifier: identifier_pb2.Identifier, interface: interface_pb2.TypedInterface) -> Html:
    kind = "task" if identifier.resource_type == identifier_pb2.TASK else "workflow"
    return join([
        crumbs(("projects", "/console"), (identifier.project, path("projects", identifier.project)),
               (identifier.domain, path("projects", identifier.project, "domains", identifier.domain)),
               (identifier.name, "")),
        tag("h1", f"{kind} {identifier.name}"),
        tag("p", join(["version ", tag("code", identifier.version)])),
        tag("h2", "Inputs"), _variables(interface.inputs.variables),
        tag("h2", "Outputs"), _variables(interface.outputs.variables),
    ])  # fmt: skip
