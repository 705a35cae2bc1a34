"""ImageSpec discovery (a real subprocess loading the example, no docker) and the classic-builder rewrite."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from flytekit import ImageSpec
from flytekit.image_spec.default_builder import create_docker_context

from tasks.core.config import load_pipeline_config
from tasks.core.config_models import ImageSpecImages
from tasks.core.errors import InvalidConfig
from tasks.core.imagespec import (
    DiscoveredImageSpec,
    ImageSpecDiscoveryFailed,
    check_pinned,
    discover_image_specs,
    unpinned_problems,
)
from tasks.core.imagespec_dockerfile import CA_FILE, UV_FILE, classic_dockerfile

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "imagespec"
BASE = "taxiway/base:bookworm-py311"


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    root = tmp_path / "imagespec"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def by_name(specs: list[DiscoveredImageSpec]) -> dict[str, DiscoveredImageSpec]:
    return {spec.name: spec for spec in specs}


def test_discovers_both_example_images_with_flytekits_names(pipeline: Path) -> None:
    specs = by_name(discover_image_specs(pipeline, ["imagespec_demo"]))
    assert set(specs) == {"imagespec-light", "imagespec-training"}
    assert specs["imagespec-light"].tasks == ("imagespec_demo.workflows.prepare",)
    assert specs["imagespec-training"].tasks == ("imagespec_demo.workflows.fit",)
    # The same spec built in this process names the same image: the name is flytekit's, not ours.
    expected = ImageSpec(
        name="imagespec-light",
        registry="127.0.0.1:30000/taxiway-imagespec",
        base_image=BASE,
        python_exec="/usr/bin/python3",
        python_version="3.11",
        packages=["flytekit==1.16.31", "numpy==2.2.6"],
    )
    assert specs["imagespec-light"].image_name == expected.image_name()
    assert specs["imagespec-light"].spec_id == expected.id


def test_names_are_stable_across_loads(pipeline: Path) -> None:
    first = discover_image_specs(pipeline, ["imagespec_demo"])
    (pipeline / "imagespec_demo" / "workflows.py").write_text(
        (pipeline / "imagespec_demo" / "workflows.py").read_text() + "\n# a code-only change\n"
    )
    assert discover_image_specs(pipeline, ["imagespec_demo"]) == first


def test_changing_one_specs_packages_changes_only_its_name(pipeline: Path) -> None:
    before = by_name(discover_image_specs(pipeline, ["imagespec_demo"]))
    images = pipeline / "imagespec_demo" / "images.py"
    images.write_text(images.read_text().replace('"pandas==2.2.3"', '"pandas==2.2.2"'))
    after = by_name(discover_image_specs(pipeline, ["imagespec_demo"]))
    assert after["imagespec-light"].image_name == before["imagespec-light"].image_name
    assert after["imagespec-training"].image_name != before["imagespec-training"].image_name
    assert after["imagespec-training"].repository == before["imagespec-training"].repository


def test_writes_flytekits_docker_context_when_asked(pipeline: Path, tmp_path: Path) -> None:
    specs = discover_image_specs(pipeline, ["imagespec_demo"], contexts=tmp_path / "contexts")
    for spec in specs:
        context = Path(spec.context)
        assert context.name == spec.tag
        assert f"ENV _F_IMG_ID={spec.spec_id}" in (context / "Dockerfile").read_text()


def test_a_module_that_fails_to_load_names_the_error(pipeline: Path) -> None:
    (pipeline / "imagespec_demo" / "broken.py").write_text("import not_installed_anywhere\n")
    with pytest.raises(ImageSpecDiscoveryFailed, match="not_installed_anywhere"):
        discover_image_specs(pipeline, ["imagespec_demo"])


def test_example_config_selects_imagespec_images() -> None:
    config = load_pipeline_config(EXAMPLE / "taxiway.yaml")
    assert config.image is None
    assert config.image_specs == ImageSpecImages(registry="127.0.0.1:30000/taxiway-imagespec", base_image=BASE)


def spec(**overrides: object) -> DiscoveredImageSpec:
    values: dict[str, object] = {
        "image_name": "127.0.0.1:30000/t/light:abc",
        "name": "light",
        "registry": "127.0.0.1:30000/t",
        "tag": "abc",
        "spec_id": "abc",
        "base_image": BASE,
        "python_version": "3.11",
        "packages": ("flytekit==1.16.31",),
        "tasks": ("p.light_task",),
    }
    return DiscoveredImageSpec(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"python_version": ""}, "python_version"),
        ({"packages": ("numpy",)}, "flytekit=="),
        ({"packages": ("flytekit",)}, "flytekit=="),
        ({"registry": "127.0.0.1:30000/other"}, "not under image_specs.registry"),
        ({"base_image": "debian:bookworm-slim"}, "base_image"),
    ],
)
def test_unpinned_specs_are_refused(overrides: dict[str, object], problem: str) -> None:
    settings = ImageSpecImages(registry="127.0.0.1:30000/t", base_image=BASE)
    assert unpinned_problems(spec(), settings) == []
    assert any(problem in text for text in unpinned_problems(spec(**overrides), settings))
    with pytest.raises(InvalidConfig, match=r"p\.light_task"):
        check_pinned([spec(**overrides)], settings)


def test_classic_dockerfile_has_no_buildkit_syntax_or_remote_images(tmp_path: Path) -> None:
    image = ImageSpec(
        name="x", base_image=BASE, python_exec="/usr/bin/python3", python_version="3.11", packages=["numpy"]
    )
    create_docker_context(image, tmp_path)
    original = (tmp_path / "Dockerfile").read_text()
    assert "--mount=" in original and "ghcr.io" in original  # what the rewrite is for
    rewritten = classic_dockerfile(original, BASE)
    assert "--mount=" not in rewritten and "#syntax" not in rewritten
    froms = [line.split()[1] for line in rewritten.splitlines() if line.startswith("FROM ")]
    assert froms == [BASE, BASE, BASE]
    assert f"COPY {UV_FILE} /uv" in rewritten and f"COPY {CA_FILE} " in rewritten
    assert "COPY requirements_uv.txt requirements_uv.txt" in rewritten
    assert "COPY --from=uv /uv /usr/bin/uv" in rewritten
    assert f"ENV _F_IMG_ID={image.id}" in rewritten


def test_secret_mounts_are_refused() -> None:
    dockerfile = "FROM base\nRUN --mount=type=secret,id=pip_secret,target=/run/secrets/x pip install y\n"
    with pytest.raises(InvalidConfig, match="pip_secret_mounts"):
        classic_dockerfile(dockerfile, BASE)


def test_discovery_uses_the_given_interpreter(pipeline: Path) -> None:
    with pytest.raises(ImageSpecDiscoveryFailed, match="could not load"):
        discover_image_specs(pipeline, ["imagespec_demo"], python=str(Path(sys.executable).parent / "no-such-python"))
