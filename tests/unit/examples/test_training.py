"""The example pipeline: data, training (Elastic and PyTorchJob variants), evaluation, launch plans."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import torch
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.tools.translator import get_serializable
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile
from training.data import META_FILE, TEST_FILE, TRAIN_FILE, SpiralSpec, load_meta, load_split, make_spirals
from training.data import save_dataset as write_dataset
from training.distributed import DistributedContext, context_from_env
from training.evaluate import EvaluationMetrics, evaluate, score
from training.launch_plans import VALIDATION_INPUTS, nightly_retraining_lp, validation_lp
from training.model import ModelSpec
from training.train import TrainedModel, TrainingConfig, fit, train_elastic, train_multiworker
from training.workflows import multiworker_training_workflow, training_workflow

from tasks.core.config import load_pipeline_config

pytestmark = [pytest.mark.unit, pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")]
logger = logging.getLogger(__name__)

CONFIG_PATH = Path(__file__).resolve().parents[3] / "examples" / "training" / "taxiway.yaml"
ACCURACY_THRESHOLD = 0.8  # the validation case in examples/training/taxiway.yaml
AS_OF = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class WorkflowRun:
    metrics: EvaluationMetrics
    model_path: Path
    seconds: float


@pytest.fixture(scope="module")
def validation_run() -> WorkflowRun:
    """One local run of ``validation_lp`` (torchelastic spawns two processes)."""
    started = time.monotonic()
    metrics, model = validation_lp(as_of=AS_OF)
    seconds = time.monotonic() - started
    # Visible with -s or in the -ra summary of a failure: the brief asks for the time, not a bound on it.
    print(f"\nvalidation_lp local run: {seconds:.1f}s accuracy={metrics.accuracy:.4f} loss={metrics.loss:.4f}")
    return WorkflowRun(metrics=metrics, model_path=Path(model.download()), seconds=seconds)


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spirals")
    spec = SpiralSpec(n_samples=600, seed=3)
    write_dataset(out, *make_spirals(spec), spec=spec, as_of=AS_OF)
    return out


# --- data -----------------------------------------------------------------------------------------


def test_spirals_are_reproducible_per_seed() -> None:
    first_train, first_test = make_spirals(SpiralSpec(n_samples=300, seed=11))
    again_train, again_test = make_spirals(SpiralSpec(n_samples=300, seed=11))
    other_train, _ = make_spirals(SpiralSpec(n_samples=300, seed=12))
    assert torch.equal(first_train.features, again_train.features)
    assert torch.equal(first_test.labels, again_test.labels)
    assert not torch.equal(first_train.features, other_train.features)


@pytest.mark.parametrize(("n_samples", "n_classes"), [(2000, 3), (301, 3), (100, 2), (500, 5)])
def test_spirals_split_and_balance(n_samples: int, n_classes: int) -> None:
    train, test = make_spirals(SpiralSpec(n_samples=n_samples, n_classes=n_classes, seed=0))
    assert len(train) + len(test) == n_samples
    assert len(test) == round(n_samples * 0.2)
    assert train.features.shape == (len(train), 2)
    assert train.features.dtype == torch.float32
    assert train.labels.dtype == torch.int64
    counts = torch.bincount(torch.cat([train.labels, test.labels]), minlength=n_classes)
    assert counts.max() - counts.min() <= 1
    assert set(test.labels.tolist()) == set(range(n_classes))


def test_spirals_are_not_linearly_separable() -> None:
    """A linear model must fail where the MLP succeeds, or the validation threshold proves nothing."""
    train, test = make_spirals(SpiralSpec(n_samples=1500, seed=5))
    torch.manual_seed(0)
    linear = torch.nn.Linear(2, 3)
    optimizer = torch.optim.Adam(linear.parameters(), lr=0.05)
    for _ in range(300):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(linear(train.features), train.labels).backward()
        optimizer.step()
    accuracy, _ = score(linear, test)
    assert accuracy < 0.6


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_samples": 20},
        {"n_samples": 100, "n_classes": 1},
        {"n_samples": 100, "test_fraction": 1.0},
        {"n_samples": 100, "noise": -0.1},
    ],
)
def test_spiral_spec_rejects_bad_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SpiralSpec(**kwargs)  # type: ignore[arg-type]


def test_dataset_round_trip(dataset_dir: Path) -> None:
    train, test = make_spirals(SpiralSpec(n_samples=600, seed=3))
    assert torch.equal(load_split(dataset_dir, TRAIN_FILE).features, train.features)
    assert torch.equal(load_split(dataset_dir, TEST_FILE).labels, test.labels)
    meta = load_meta(dataset_dir)
    assert meta["n_classes"] == 3
    assert meta["as_of"] == AS_OF.isoformat()
    assert json.loads((dataset_dir / META_FILE).read_text())["seed"] == 3


def test_load_split_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="generate_dataset"):
        load_split(tmp_path, TRAIN_FILE)


# --- distributed context --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, DistributedContext(rank=0, world_size=1)),
        ({"WORLD_SIZE": "3", "RANK": "2"}, DistributedContext(rank=2, world_size=3)),
        ({"WORLD_SIZE": "2", "RANK": "0"}, DistributedContext(rank=0, world_size=2)),
    ],
)
def test_context_from_env(env: dict[str, str], expected: DistributedContext) -> None:
    assert context_from_env(env) == expected
    assert expected.is_primary == (expected.rank == 0)


@pytest.mark.parametrize("env", [{"WORLD_SIZE": "2", "RANK": "2"}, {"WORLD_SIZE": "0"}])
def test_context_from_env_rejects_inconsistent_values(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="WORLD_SIZE"):
        context_from_env(env)


# --- training and evaluation logic ----------------------------------------------------------------


def test_fit_is_deterministic_and_learns(dataset_dir: Path) -> None:
    train = load_split(dataset_dir, TRAIN_FILE)
    config = TrainingConfig(epochs=15, batch_size=32, learning_rate=0.01, seed=1)
    spec = ModelSpec(n_features=2, n_classes=3, hidden_size=32)
    alone = DistributedContext(rank=0, world_size=1)
    first, second = fit(train, spec, config, alone), fit(train, spec, config, alone)
    for name, tensor in first.model.state_dict().items():
        assert torch.equal(tensor, second.model.state_dict()[name]), name
    assert first.final_loss == second.final_loss
    assert first.final_loss < 1.0  # cross-entropy of a uniform guess over 3 classes is ln 3 = 1.10


def test_evaluate_task_scores_and_exports_torchscript(dataset_dir: Path, tmp_path: Path) -> None:
    train = load_split(dataset_dir, TRAIN_FILE)
    spec = ModelSpec(n_features=2, n_classes=3, hidden_size=32)
    result = fit(
        train,
        spec,
        TrainingConfig(epochs=5, batch_size=32, learning_rate=0.01, seed=1),
        DistributedContext(rank=0, world_size=1),
    )
    weights = tmp_path / "weights.pt"
    torch.save(result.model.state_dict(), weights)
    trained = TrainedModel(
        weights=FlyteFile(path=str(weights)),
        n_features=2,
        n_classes=3,
        hidden_size=32,
        epochs=5,
        world_size=1,
        final_loss=result.final_loss,
    )
    metrics, model = evaluate(dataset=FlyteDirectory(path=str(dataset_dir)), trained=trained)

    test = load_split(dataset_dir, TEST_FILE)
    expected_accuracy, expected_loss = score(result.model, test)
    assert metrics.accuracy == pytest.approx(expected_accuracy)
    assert metrics.loss == pytest.approx(expected_loss, rel=1e-5)
    assert metrics.n_test == len(test)
    assert metrics.data_as_of == AS_OF.isoformat()
    scripted = torch.jit.load(model.download())
    with torch.no_grad():
        torch.testing.assert_close(scripted(test.features), result.model(test.features))


# --- workflows ------------------------------------------------------------------------------------


def test_validation_lp_reaches_threshold_with_two_processes(validation_run: WorkflowRun) -> None:
    assert validation_run.metrics.accuracy >= ACCURACY_THRESHOLD
    assert validation_run.metrics.world_size == 2
    assert validation_run.metrics.n_test == round(VALIDATION_INPUTS["n_samples"] * 0.2)
    assert validation_run.metrics.data_as_of == AS_OF.isoformat()


def test_config_expectations_hold_for_a_real_run(validation_run: WorkflowRun) -> None:
    """The validation case in taxiway.yaml passes on what validation_lp actually returns."""
    (case,) = load_pipeline_config(CONFIG_PATH).validation
    outputs = {"metrics": dataclasses.asdict(validation_run.metrics), "model": str(validation_run.model_path)}
    failed = [e.explain(e.lookup(outputs)) for e in case.expectations if not e.evaluate(outputs)]
    assert not failed


def test_torchscript_model_predicts_the_same_outside_flyte(validation_run: WorkflowRun, tmp_path: Path) -> None:
    """A fresh interpreter that imports nothing but torch reproduces the evaluation metrics."""
    _, test = make_spirals(SpiralSpec(n_samples=VALIDATION_INPUTS["n_samples"], seed=VALIDATION_INPUTS["seed"]))
    torch.save({"features": test.features, "labels": test.labels}, tmp_path / "test.pt")
    script = (
        "import json, sys, torch\n"
        "model = torch.jit.load(sys.argv[1]); data = torch.load(sys.argv[2])\n"
        "with torch.no_grad(): logits = model(data['features'])\n"
        "print(json.dumps({'accuracy': (logits.argmax(1) == data['labels']).double().mean().item(),\n"
        "                  'loss': torch.nn.functional.cross_entropy(logits, data['labels']).item()}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, str(validation_run.model_path), str(tmp_path / "test.pt")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    outside = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outside["accuracy"] == pytest.approx(validation_run.metrics.accuracy, abs=1e-9)
    assert outside["loss"] == pytest.approx(validation_run.metrics.loss, rel=1e-5)


def test_elastic_task_spawns_two_processes(dataset_dir: Path) -> None:
    trained = train_elastic(
        dataset=FlyteDirectory(path=str(dataset_dir)),
        epochs=2,
        batch_size=32,
        learning_rate=0.01,
        hidden_size=16,
        seed=0,
    )
    assert trained.world_size == 2
    assert Path(trained.weights.download()).stat().st_size > 0


def test_multiworker_variant_runs_alone_locally() -> None:
    """Locally a PyTorchJob task is one process: the same code trains without a process group."""
    metrics, _ = multiworker_training_workflow(n_samples=2000, epochs=40, seed=7, as_of=AS_OF)
    assert metrics.world_size == 1
    assert metrics.accuracy >= ACCURACY_THRESHOLD


# --- launch plans and serialization ---------------------------------------------------------------


def test_launch_plans_are_declared_as_documented() -> None:
    assert validation_lp.name == "validation_lp"
    assert validation_lp.workflow is training_workflow
    defaults = {name: p.default.scalar.primitive for name, p in validation_lp.parameters.parameters.items()}
    assert defaults["n_samples"].integer == VALIDATION_INPUTS["n_samples"]
    assert defaults["epochs"].integer == VALIDATION_INPUTS["epochs"]
    assert nightly_retraining_lp.name == "nightly_retraining_lp"
    schedule = nightly_retraining_lp.schedule
    assert schedule is not None
    assert schedule.cron_schedule is not None
    assert schedule.cron_schedule.schedule == "0 2 * * *"
    assert schedule.kickoff_time_input_arg == "as_of"


def test_task_types_serialize_for_the_right_backend_plugins() -> None:
    settings = SerializationSettings(
        project="training",
        domain="development",
        version="v1",
        image_config=ImageConfig(default_image=Image(name="default", fqn="example/training", tag="v1")),
    )
    elastic = get_serializable({}, settings, train_elastic)  # type: ignore[arg-type]
    # nnodes=1: a plain pod running torchelastic, no training operator needed
    assert elastic.template.type == "python-task"
    multiworker = get_serializable({}, settings, train_multiworker)  # type: ignore[arg-type]
    assert multiworker.template.type == "pytorch"
    assert multiworker.template.custom["workerReplicas"]["replicas"] == 2
