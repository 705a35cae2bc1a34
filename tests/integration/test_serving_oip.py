"""Rollout to a real model server: MLServer (OIP v2) from its own venv, models on a moto S3 server.

The models are the example pipeline's classifier (``training.model.build_classifier``, exported with
``training.evaluate.export_torchscript``), trained for a few steps on a tiny spiral; predictions served
over HTTP must match ``torch.jit.load`` outside serving.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import torch

from localflyte.testing import MotoServer
from modelserver.process import ModelServerProcess
from tasks.core.config_models import SmokeRequest
from tasks.core.errors import SourceNotFound
from tasks.core.rollout import RolloutRequest, roll_out
from tasks.core.rollout_errors import ServingRejected, ServingUnavailable
from tasks.core.rollout_records import RolloutOutcome
from tasks.core.serving_oip import OipTarget, retrying_session

pytestmark = pytest.mark.integration

EXAMPLE_ROOT = Path(__file__).resolve().parents[2] / "examples" / "training"
if str(EXAMPLE_ROOT) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_ROOT))

from training.evaluate import export_torchscript  # noqa: E402
from training.model import ModelSpec, build_classifier  # noqa: E402

MODEL = "training-classifier"
REPOSITORY = "s3://taxiway-models/serving"
POINT = [0.25, -0.5]
SMOKE = (
    SmokeRequest.model_validate(
        {
            "name": "one-point",
            "payload": {"inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "FP32", "data": POINT}]},
            "expectations": [f'model_name == "{MODEL}"', "outputs.0.data exists", "outputs.0.shape.1 == 3"],
        }
    ),
)


def make_model(path: Path, seed: int, n_features: int = 2) -> Path:
    """The example's classifier, a few SGD steps on a tiny spiral-ish set, exported as TorchScript."""
    torch.manual_seed(seed)
    model = build_classifier(ModelSpec(n_features=n_features, n_classes=3, hidden_size=16))
    features = torch.randn(64, n_features)
    labels = (features[:, 0] > 0).long() + (features[:, 1] > 0).long()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(20):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(features), labels).backward()
        optimizer.step()
    export_torchscript(model, path)
    return path


def expected_logits(path: Path, point: list[float]) -> list[float]:
    module = torch.jit.load(str(path))
    with torch.no_grad():
        return [float(x) for x in module(torch.tensor([point], dtype=torch.float32))[0]]


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"), buckets=("taxiway-models", "taxiway-data"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(moto: MotoServer) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=moto.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, moto: MotoServer) -> Iterator[ModelServerProcess]:
    with ModelServerProcess(
        tmp_path_factory.mktemp("model_server"), repository=REPOSITORY, s3_endpoint=moto.endpoint
    ) as process:
        yield process


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, s3: Any) -> dict[str, str]:
    """Model outputs as a validated execution leaves them: files under the raw data prefix."""
    folder = tmp_path_factory.mktemp("models")
    uris = {}
    for name, seed, features in (("good-a", 1, 2), ("good-b", 2, 2), ("wrong-shape", 3, 3)):
        path = make_model(folder / f"{name}.pt", seed, features)
        key = f"development/training/{name}/model.pt"
        s3.upload_file(str(path), "taxiway-data", key)
        uris[name] = f"s3://taxiway-data/{key}"
        uris[f"{name}:path"] = str(path)
    return uris


def target(server: ModelServerProcess, s3: Any, **kwargs: Any) -> OipTarget:
    return OipTarget(url=server.url, model_name=MODEL, s3_client=s3, repository=REPOSITORY, timeout=60, **kwargs)


def request(models: dict[str, str], name: str, version: str) -> RolloutRequest:
    return RolloutRequest(
        pipeline="training",
        version=version,
        model_uri=models[name],
        git_sha="a" * 40,
        execution_id=f"val-{version}",
        metrics={"accuracy": 0.9, "loss": 0.3, "world_size": 2, "data_as_of": "2024-01-01T00:00:00Z"},
    )


def predict(server: ModelServerProcess, version: str | None = None) -> tuple[list[float], str | None]:
    path = f"/v2/models/{MODEL}" + (f"/versions/{version}" if version else "") + "/infer"
    body = {"inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "FP32", "data": POINT}]}
    response = requests.post(server.url + path, json=body, timeout=30)
    assert response.status_code == 200, response.text
    answer = response.json()
    return [float(x) for x in answer["outputs"][0]["data"]], answer.get("model_version")


def test_rollout_lifecycle(server: ModelServerProcess, s3: Any, models: dict[str, str]) -> None:
    oip = target(server, s3)

    first = roll_out(request(models, "good-a", "v1"), s3_client=s3, target=oip, smoke=SMOKE)
    assert first.outcome is RolloutOutcome.ROLLED_OUT, first.reason
    assert first.previous_version == ""
    assert first.model_uri.startswith(f"s3://taxiway-models/training/v1/{first.checksum}/")
    logits, version = predict(server)
    assert version == "v1"
    assert logits == pytest.approx(expected_logits(Path(models["good-a:path"]), POINT), abs=1e-5)

    again = roll_out(request(models, "good-a", "v1"), s3_client=s3, target=oip, smoke=SMOKE)
    assert again.outcome is RolloutOutcome.NO_OP
    assert again.checksum == first.checksum

    second = roll_out(request(models, "good-b", "v2"), s3_client=s3, target=oip, smoke=SMOKE)
    assert second.outcome is RolloutOutcome.ROLLED_OUT, second.reason
    assert second.previous_version == "v1"
    logits, version = predict(server)
    assert version == "v2"
    assert logits == pytest.approx(expected_logits(Path(models["good-b:path"]), POINT), abs=1e-5)
    # The replaced version stays loaded for a quick rollback.
    assert predict(server, "v1")[1] == "v1"

    broken = roll_out(request(models, "wrong-shape", "v3"), s3_client=s3, target=oip, smoke=SMOKE)
    assert broken.outcome is RolloutOutcome.KEPT_PREVIOUS
    assert broken.serving_version == "v2"
    assert not broken.smoke[0].passed and broken.smoke[0].error
    logits, version = predict(server)
    assert version == "v2"
    assert logits == pytest.approx(expected_logits(Path(models["good-b:path"]), POINT), abs=1e-5)
    assert requests.get(f"{server.url}/v2/models/{MODEL}/versions/v3/ready", timeout=10).status_code != 200

    third = roll_out(request(models, "good-a", "v3b"), s3_client=s3, target=oip, smoke=SMOKE)
    assert third.outcome is RolloutOutcome.ROLLED_OUT
    # v1 is older than the version v3b replaced (v2): retired.
    assert requests.get(f"{server.url}/v2/models/{MODEL}/versions/v1/ready", timeout=10).status_code != 200
    assert predict(server, "v2")[1] == "v2"

    restored = oip.restore_previous()
    assert restored.version == "v2"
    assert predict(server)[1] == "v2"


def test_unloadable_model_keeps_previous(
    server: ModelServerProcess, s3: Any, models: dict[str, str], tmp_path: Path
) -> None:
    oip = target(server, s3)
    before = oip.current()
    assert before is not None
    garbage = tmp_path / "model.pt"
    garbage.write_bytes(b"not a torchscript archive")
    record = roll_out(
        RolloutRequest("training", "v9", str(garbage), "b" * 40, "val-v9"), s3_client=s3, target=oip, smoke=SMOKE
    )
    assert record.outcome is RolloutOutcome.KEPT_PREVIOUS
    assert record.smoke[0].name == "deploy"
    assert predict(server)[1] == before.version


def test_bad_input_changes_nothing(server: ModelServerProcess, s3: Any, models: dict[str, str]) -> None:
    oip = target(server, s3)
    before = oip.current()
    empty = RolloutRequest("training", "v10", "", "c" * 40, "val-v10")
    with pytest.raises(SourceNotFound, match="no model output"):
        roll_out(empty, s3_client=s3, target=oip, smoke=SMOKE)
    missing = RolloutRequest("training", "v10", "s3://taxiway-data/nothing/model.pt", "c" * 40, "val-v10")
    with pytest.raises(SourceNotFound, match="no model file"):
        roll_out(missing, s3_client=s3, target=oip, smoke=SMOKE)
    with pytest.raises(Exception, match="bucket no-such-bucket does not exist"):
        roll_out(request(models, "good-b", "v10"), s3_client=s3, target=oip, smoke=SMOKE, bucket="no-such-bucket")
    not_a_server = OipTarget(url=f"{server.url}/nope", model_name=MODEL, s3_client=s3, repository=REPOSITORY)
    with pytest.raises(ServingRejected, match="no Open Inference Protocol v2 server"):
        roll_out(request(models, "good-b", "v10"), s3_client=s3, target=not_a_server, smoke=SMOKE)
    unreachable = OipTarget(
        url="http://user:s3cret@127.0.0.1:9", model_name=MODEL, s3_client=s3, session=retrying_session(2, 0.01)
    )
    with pytest.raises(ServingUnavailable) as caught:
        roll_out(request(models, "good-b", "v10"), s3_client=s3, target=unreachable, smoke=SMOKE)
    assert "s3cret" not in str(caught.value)
    assert oip.current() == before
    assert not list(s3.list_objects_v2(Bucket="taxiway-models", Prefix="training/v10/").get("Contents", []))
