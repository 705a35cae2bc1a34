"""Demo steps 4-7: the nightly promotion, production through the approval gate, the model, the report."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import requests

from tasks.core.config import PipelineConfig, load_pipeline_config
from tasks.core.promote_names import promotion_execution_name, short_hash
from taxiway.demo.flyte import META_DOMAIN, META_PROJECT, Flyte, phase_name
from taxiway.demo.runner import DemoContext, StepFailed
from taxiway.demo.steps_release import PIPELINE_DIR, ensure_env, release_of_demo_repo

NIGHTLY_PLAN = "taxiway.nightly_staging"
PROMOTE_PLAN = "taxiway.promote"
RELEASE_PLAN = "taxiway.release_model"
APPROVAL_SIGNAL = "approval"
APPROVERS = ("demo-approver", "demo-approver-2", "demo-approver-3")
#: Enough clock to pass the nightly launch plan's next 02:00 slot, whenever the demo runs.
ONE_DAY = 86400
STEP_TIMEOUT = 2400.0


def _config(ctx: DemoContext) -> PipelineConfig:
    return load_pipeline_config(ctx.paths.root / PIPELINE_DIR / "taxiway.yaml")


def _setup(ctx: DemoContext) -> tuple[Flyte, PipelineConfig, str, str | None]:
    """The Flyte client, the example's config, the release version and the meta-workflows' version.

    The meta version is the one the register step registered; when the run starts later (``--from``) it is
    None: the newest registered version of each launch plan is used.
    """
    ensure_env(ctx)
    _, version = release_of_demo_repo(ctx)
    return Flyte.from_env(ctx.env), _config(ctx), version, ctx.values.get("meta_version")


def _active_in(flyte: Flyte, config: PipelineConfig, domain: str, version: str) -> bool:
    return version in flyte.active_versions(config.project, domain).values()


def _launch_plan(flyte: Flyte, name: str, version: str | None, hint: str) -> Any:
    try:
        return flyte.remote().fetch_launch_plan(META_PROJECT, META_DOMAIN, name, version)
    except Exception as err:  # FlyteEntityNotExistException: name the piece that registers it
        raise StepFailed(f"launch plan {name}@{version or 'latest'} is not registered in {META_PROJECT}/{META_DOMAIN} "
                         f"({type(err).__name__}); {hint}") from None  # fmt: skip


def nightly_step(ctx: DemoContext) -> str:
    """Activate the nightly launch plan, advance localflyte's clock by a day, wait for the scheduled run."""
    flyte, config, version, meta = _setup(ctx)
    if _active_in(flyte, config, "staging", version):
        return f"release {version} is already active in staging (an earlier nightly promoted it)"
    plan = _launch_plan(flyte, NIGHTLY_PLAN, meta, "run the register step (launchplans/nightly.py)")
    flyte.remote().client.update_launch_plan(plan.id, "ACTIVE")
    ctx.say(f"activated {NIGHTLY_PLAN}@{plan.id.version}; advancing localflyte's clock by a day")
    port = ctx.env.get("FLYTE_PLATFORM_URL", "127.0.0.1:30080").rsplit(":", 1)[1]
    ticked = ctx.run(
        [sys.executable, "-m", "localflyte", "tick", "--port", port, "--seconds", str(ONE_DAY)], timeout=120
    )
    fired = [run for run in json.loads(ticked.stdout.strip().splitlines()[-1]).get("fired", [])
             if run.get("launch_plan") == NIGHTLY_PLAN]  # fmt: skip
    if not fired:
        raise StepFailed(f"localflyte's clock moved a day but {NIGHTLY_PLAN} did not fire; see the tick output")
    name = fired[-1]["name"]
    ctx.values["nightly_execution"] = name
    ctx.say(f"the schedule fired {name} at {fired[-1].get('scheduled_at')}; waiting for it")
    execution = flyte.wait(name, timeout=STEP_TIMEOUT)
    if not _active_in(flyte, config, "staging", version):
        promoted = _output_text(flyte, execution)
        raise StepFailed(
            f"nightly {name} succeeded but release {version} is not active in staging "
            f"(it promoted {promoted or 'nothing'}: was the release validated in development?)"
        )
    return f"release {version} promoted development -> staging by the nightly {name}"


def _output_text(flyte: Flyte, execution: Any) -> str:
    try:
        synced = flyte.remote().sync_execution(execution)
        return ", ".join(f"{key}={value}" for key, value in synced.outputs.literals.items())[:200]
    except Exception:  # outputs are a hint in an error message only
        return ""


def production_step(ctx: DemoContext) -> str:
    """Launch ``promote_pipeline`` into production, approve at its gate via FlyteRemote, wait for it."""
    flyte, config, version, meta = _setup(ctx)
    if _active_in(flyte, config, "production", version):
        return f"release {version} is already active in production"
    plan = _launch_plan(flyte, PROMOTE_PLAN, meta, "run the register step (launchplans/promote.py)")
    name, exists = flyte.reusable_name(promotion_execution_name(config.pipeline, version, "production"))
    ctx.values["promote_execution"] = name
    if not exists:
        inputs = {"pipeline": config.pipeline, "version": version, "to_domain": "production", "override_reason": ""}
        flyte.remote().execute(plan, inputs=inputs, execution_name=name, wait=False)
        ctx.say(f"launched {PROMOTE_PLAN} as {name}")
    approvers = _approve_at_gate(ctx, flyte, name)
    flyte.wait(name, timeout=STEP_TIMEOUT)
    if not _active_in(flyte, config, "production", version):
        raise StepFailed(f"{name} succeeded but release {version} is not active in production")
    how = f"approved by {', '.join(approvers)}" if approvers else "no approval was asked for"
    return f"release {version} promoted staging -> production by {name} ({how})"


def _approve_at_gate(ctx: DemoContext, flyte: Flyte, name: str) -> list[str]:
    """Answer the promotion's approval gate as the platform team would, until it passes or the run ends."""
    remote, approvers = flyte.remote(), list[str]()
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        execution = flyte.fetch(name)
        if execution is None or execution.is_done:
            return approvers
        signals = {s.id.signal_id: s for s in remote.list_signals(name, META_PROJECT, META_DOMAIN)}
        gate = signals.get(APPROVAL_SIGNAL)
        if gate is not None and not gate.HasField("value") and len(approvers) < len(APPROVERS):
            approver = APPROVERS[len(approvers)]
            execution = f"{META_PROJECT}/{META_DOMAIN}/{name}"
            ctx.run([sys.executable, "-m", "taxiway", "approve", execution, "--as", approver, "--comment",
                     "approved by the demo", "--config", str(PIPELINE_DIR / "taxiway.yaml")])  # fmt: skip
            ctx.say(f"the demo approved {name} at its gate as {approver} (FlyteRemote signal, `taxiway approve`)")
            approvers.append(approver)
        time.sleep(2)
    return approvers


def release_step(ctx: DemoContext) -> str:
    """Run ``release_model`` (the production model to the model server), then ask the server for a prediction."""
    flyte, config, version, meta = _setup(ctx)
    plan = _launch_plan(flyte, RELEASE_PLAN, meta, "meta_workflows/release_model.py + launchplans/release_model.py "
                        "must exist and be registered")  # fmt: skip
    known = {"pipeline": config.pipeline, "version": version, "domain": config.serving_domain,
             "from_domain": config.serving_domain}  # fmt: skip
    wanted = dict(plan.interface.inputs)
    defaults = {key for key, param in plan.default_inputs.parameters.items() if not param.required}
    missing = [key for key in wanted if key not in known and key not in defaults]
    if missing:
        raise StepFailed(f"{RELEASE_PLAN} needs inputs the demo does not know: {', '.join(missing)}")
    inputs = {key: value for key, value in known.items() if key in wanted}
    name, exists = flyte.reusable_name(f"release-{version}-{short_hash(config.pipeline, version)}")
    ctx.values["release_execution"] = name
    if not exists:
        flyte.remote().execute(plan, inputs=inputs, execution_name=name, wait=False)
        ctx.say(f"launched {RELEASE_PLAN} as {name} with {inputs}")
    flyte.wait(name, timeout=STEP_TIMEOUT)
    return predict(ctx, config)


def predict(ctx: DemoContext, config: PipelineConfig) -> str:
    """POST the first smoke payload of taxiway.yaml to the model server (OIP v2); the prediction line."""
    serving = config.serving
    if serving is None or serving.kind != "oip":
        raise StepFailed("examples/training/taxiway.yaml has no `serving: {kind: oip}`: nothing to ask")
    payload: dict[str, Any] = dict(serving.smoke[0].payload) if serving.smoke else {}
    url = f"{serving.url.rstrip('/')}/v2/models/{serving.model_name}/infer"
    response = requests.post(url, json=payload, timeout=30)
    ctx.log(f"POST {url} {json.dumps(payload)} -> {response.status_code} {response.text[:2000]}")
    if response.status_code != 200:
        raise StepFailed(f"POST {url} answered {response.status_code}: {response.text[:300]}")
    body = response.json()
    logits = body["outputs"][0]["data"]
    best = max(range(len(logits)), key=logits.__getitem__)
    point = payload["inputs"][0]["data"]
    line = (f"prediction: {body.get('model_name')} (model version {body.get('model_version', '?')}) "
            f"{point} -> class {best}, logits {[round(v, 3) for v in logits]}")  # fmt: skip
    ctx.say(line)
    return line


def report_step(ctx: DemoContext) -> str:
    """``taxiway status``, the Slack messages posted, and where the console shows the runs and Decks."""
    flyte, config, version, _ = _setup(ctx)
    status = ctx.run([sys.executable, "-m", "taxiway", "status", "--config", str(PIPELINE_DIR / "taxiway.yaml")])
    ctx.say("taxiway status:")
    for line in status.stdout.splitlines():
        ctx.say(f"  {line}")
    everything = _slack_messages(ctx)
    messages = [message for message in everything if version in json.dumps(message)]
    ctx.say(f"Slack: {len(messages)} of localslack's {len(everything)} messages are about release {version}:")
    for message in messages[-12:]:
        text = (message.get("text") or "").splitlines()[0][:110] if message.get("text") else "(blocks only)"
        ctx.say(f"  {message.get('channel_name') or message.get('channel')}: {text}")
    ctx.say(f"console: {flyte.console}/console/projects/{META_PROJECT}/domains/{META_DOMAIN}")
    for key in ("ci_execution", "nightly_execution", "promote_execution", "release_execution"):
        if key in ctx.values:
            url = flyte.execution_url(META_PROJECT, META_DOMAIN, ctx.values[key])
            ctx.say(f"  {key.removesuffix('_execution')}: {url} (its nodes link their Decks)")
    active = [domain for domain in config.domain_names if _active_in(flyte, config, domain, version)]
    if active != list(config.domain_names):
        raise StepFailed(f"release {version} is active in {', '.join(active) or 'no domain'}, not in every domain "
                         f"({', '.join(config.domain_names)}): an earlier step did not finish")  # fmt: skip
    return f"release {version} active in {', '.join(active)}; {len(messages)} Slack messages about it"


def _slack_messages(ctx: DemoContext) -> list[dict[str, Any]]:
    base = ctx.env.get("SLACK_BASE_URL", "http://127.0.0.1:30091/api/").removesuffix("/").removesuffix("/api")
    try:
        response = requests.get(f"{base}/_local/messages", timeout=10)
        response.raise_for_status()
    except requests.RequestException as err:
        ctx.say(f"could not read localslack's messages: {err}")
        return []
    body = response.json()
    return list(body.get("messages", body) if isinstance(body, dict) else body)


def phase_of(flyte: Flyte, name: str) -> str:
    """The phase of a meta-workflow execution, or ``absent``."""
    execution = flyte.fetch(name)
    return phase_name(execution.closure.phase) if execution else "absent"
