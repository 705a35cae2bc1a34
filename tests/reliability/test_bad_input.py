"""The bad-input corpus: malformed, hostile or oversized input is refused before anything changes.

Table-driven across taxiway.yaml, the core functions' inputs (versions, refs, PR numbers, image
names, build args, paths, archives), the promotion decision and the ``taxiway`` CLI. Every case
asserts a clear error that names the offending field, and that nothing changed: no file written, no
git or docker call made, no connection opened. Shell metacharacters carry a command that would
create a sentinel file if any shell ever interpreted them; the file must not exist afterwards.
"""

from __future__ import annotations

import copy
import io
import socket
import subprocess
import tarfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from tasks.core.build import build_image
from tasks.core.config import PipelineConfig, load_pipeline_config, parse_pipeline_config
from tasks.core.config_models import DockerfileImage
from tasks.core.config_yaml import MAX_CONFIG_BYTES
from tasks.core.errors import InvalidConfig, SourceNotFound, TaxiwayError
from tasks.core.promote_decide import Promote, PromotionFacts, Refuse, decide_promotion
from tasks.core.records import SourceRef
from tasks.core.register_package import InvalidPackage, load_package
from tasks.core.source import clone_source, pipeline_root, resolve_inside, resolve_source
from tasks.core.validate import ValidationReport
from tasks.core.versions import InvalidReleaseInput, parse_release_version, release_version
from tasks.core.vocabulary import Verdict
from taxiway.cli import EXIT_INVALID, cli

pytestmark = pytest.mark.unit

SHA = "0123456789abcdef0123456789abcdef01234567"
_SENTINEL_DIR = Path("/tmp")


def _sentinel() -> Path:
    """A file that only a shell interpreting hostile input would create."""
    return _SENTINEL_DIR / f"taxiway-pwned-{uuid.uuid4().hex}"


# ---------------------------------------------------------------------------------------------- taxiway.yaml

BASE: dict[str, Any] = {
    "version": 1,
    "pipeline": "training",
    "packages": ["training"],
    "image": {
        "repository": "127.0.0.1:30000/taxiway/training",
        "dockerfile": "Dockerfile",
        "context": ".",
        "tag_inputs": ["requirements.txt"],
        "build_args": {"BASE_IMAGE": "taxiway/base:bookworm-py311"},
    },
    "domains": [
        {"name": "development", "raw_data_prefix": "s3://taxiway-data/development"},
        {"name": "staging", "raw_data_prefix": "s3://taxiway-data/staging", "labels": {"team": "ml"}},
        {"name": "production", "raw_data_prefix": "s3://taxiway-data/production"},
    ],
    "validation": [{"name": "accuracy-gate", "launch_plan": "validation_lp", "domains": ["staging"]}],
}


def _with(change: Callable[[dict[str, Any]], None]) -> str:
    data = copy.deepcopy(BASE)
    change(data)
    return yaml.safe_dump(data, sort_keys=False)


def _staging(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["domains"][1].__setitem__(key, value)


def _image(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["image"].__setitem__(key, value)


BILLION_LAUGHS = "version: 1\n" + "".join(
    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else '"lol"'] * 9) + "]\n" for i in range(9)
)
DEEP = "version: 1\npipeline: " + "[" * 200 + "]" * 200 + "\n"

# (case id, taxiway.yaml text, the key path the error must name, a word of the message)
CONFIG_CASES: list[tuple[str, str, str, str]] = [
    ("format-version-2", _with(lambda d: d.__setitem__("version", 2)), "version", "expected 1"),
    ("format-version-string", _with(lambda d: d.__setitem__("version", "1")), "version", "expected 1"),
    ("unknown-top-level-key", _with(lambda d: d.__setitem__("domian", [])), "domian", "unknown"),
    ("uppercase-domain", _with(_staging("name", "Staging")), "domains", "lowercase"),
    (
        "duplicate-domain",
        _with(lambda d: d["domains"][2].__setitem__("name", "staging")),
        "domains.staging",
        "unique",
    ),
    (
        "validation-in-unknown-domain",
        _with(lambda d: d["validation"][0].__setitem__("domains", ["prod"])),
        "validation.accuracy-gate.domains",
        "'prod'",
    ),
    ("no-domains", _with(lambda d: d.__setitem__("domains", [])), "domains", "at least 1"),
    ("storage-not-a-uri", _with(_staging("raw_data_prefix", "http://x/y")), "domains.staging.raw_data_prefix", "s3"),
    ("label-value-64-chars", _with(_staging("labels", {"team": "a" * 64})), "domains.staging.labels", "63"),
    ("label-value-space", _with(_staging("labels", {"team": "ml platform"})), "domains.staging.labels", "label value"),
    ("label-value-bool", _with(_staging("labels", {"team": True})), "domains.staging.labels", "string"),
    (
        "label-key-uppercase-prefix",
        _with(_staging("labels", {"Example.com/team": "ml"})),
        "domains.staging.labels",
        "prefix",
    ),
    (
        "label-key-reserved-prefix",
        _with(_staging("labels", {"taxiway.dev/x": "ml"})),
        "domains.staging.labels",
        "reserves",
    ),
    (
        "annotation-key-leading-dash",
        _with(_staging("annotations", {"-owner": "me"})),
        "domains.staging.annotations",
        "starting and ending",
    ),
    (
        "service-account-uppercase",
        _with(_staging("service_account", "Train_SA")),
        "domains.staging.service_account",
        "DNS",
    ),
    ("iam-role-not-an-arn", _with(_staging("iam_role", "admin")), "domains.staging.iam_role", "ARN"),
    ("repository-shell", _with(_image("repository", "127.0.0.1:5000/x;touch /tmp/p")), "image.repository", "image"),
    ("repository-subshell", _with(_image("repository", "$(touch /tmp/p)")), "image.repository", "image"),
    ("repository-with-tag", _with(_image("repository", "127.0.0.1:5000/x:latest")), "image.repository", "tag"),
    ("dockerfile-traversal", _with(_image("dockerfile", "../../etc/passwd")), "image.dockerfile", "'..'"),
    ("dockerfile-absolute", _with(_image("dockerfile", "/etc/passwd")), "image.dockerfile", "relative"),
    ("context-backslash", _with(_image("context", "..\\..")), "image.context", "relative"),
    ("tag-input-traversal", _with(_image("tag_inputs", ["ok.txt", "a/../../b"])), "image.tag_inputs", "'..'"),
    ("build-arg-name-shell", _with(_image("build_args", {"$(id)": "x"})), "image.build_args", "identifier"),
    ("package-shell", _with(lambda d: d.__setitem__("packages", ["training; rm -rf /"])), "packages", "dotted"),
    ("billion-laughs", BILLION_LAUGHS, "", "aliases"),
    ("nesting-bomb", DEEP, "", "nesting"),
    ("duplicate-key", "version: 1\nversion: 1\n", "version", "duplicate"),
    ("python-tag", "version: !!python/object/apply:os.system ['touch /tmp/p']\n", "", "could not parse"),
    ("top-level-list", "- version: 1\n", "", "mapping"),
    ("empty", "", "", "empty"),
    ("nul-byte", "version: 1\npipeline: a\x00b\n", "", "could not parse"),
]


@pytest.mark.parametrize(("text", "path", "word"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
def test_taxiway_yaml_is_refused_naming_the_field(tmp_path: Path, text: str, path: str, word: str) -> None:
    config = tmp_path / "taxiway.yaml"
    config.write_text(text)
    with pytest.raises(InvalidConfig) as caught:
        load_pipeline_config(config)
    message = str(caught.value)
    problems = caught.value.problems
    assert problems, "every refusal lists its problems"
    assert all(problem.source == str(config) for problem in problems)
    assert any(problem.path.startswith(path) for problem in problems), message
    assert word.lower() in message.lower()
    assert sorted(tmp_path.iterdir()) == [config], "loading a config writes nothing"


def test_python_tags_in_taxiway_yaml_never_run(tmp_path: Path) -> None:
    sentinel = _sentinel()
    config = tmp_path / "taxiway.yaml"
    config.write_text(f"version: !!python/object/apply:os.system ['touch {sentinel}']\n")
    with pytest.raises(InvalidConfig):
        load_pipeline_config(config)
    assert not sentinel.exists()


@pytest.mark.parametrize(
    ("data", "word"),
    [
        pytest.param(b"version: 1\n" + b"#" * MAX_CONFIG_BYTES, "at most", id="huge-file"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8", id="binary-file"),
        pytest.param(b"version: 1\npipeline: caf\xe9\n", "not UTF-8", id="latin1-file"),
    ],
)
def test_huge_or_binary_taxiway_yaml_is_refused(tmp_path: Path, data: bytes, word: str) -> None:
    config = tmp_path / "taxiway.yaml"
    config.write_bytes(data)
    with pytest.raises(InvalidConfig, match=word):
        load_pipeline_config(config)
    assert sorted(tmp_path.iterdir()) == [config]


def test_config_path_that_is_a_directory_is_source_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound, match="pipeline config file not found"):
        load_pipeline_config(tmp_path)


def test_image_model_built_in_code_refuses_shell_in_repository() -> None:
    """The same rules hold when a DockerfileImage is built from meta-workflow inputs instead of YAML."""
    with pytest.raises(ValidationError, match="repository"):
        DockerfileImage(repository="127.0.0.1:5000/x`id`")


# ------------------------------------------------------------------------------------ versions and PR numbers


@pytest.mark.parametrize(
    ("git_sha", "pr_number", "field_name"),
    [
        pytest.param("main", 0, "git_sha", id="branch-name-as-sha"),
        pytest.param(SHA[:12], 0, "git_sha", id="abbreviated-sha"),
        pytest.param(SHA + "0", 0, "git_sha", id="41-hex-sha"),
        pytest.param("g" * 40, 0, "git_sha", id="non-hex-sha"),
        pytest.param("$(touch /tmp/p)" + "0" * 25, 0, "git_sha", id="shell-in-sha"),
        pytest.param(SHA, -1, "pr_number", id="negative-pr"),
        pytest.param(SHA, 10**10, "pr_number", id="huge-pr"),
        pytest.param(SHA, True, "pr_number", id="bool-pr"),
        pytest.param(SHA, "7", "pr_number", id="string-pr"),
    ],
)
def test_malformed_release_inputs_are_refused(git_sha: str, pr_number: Any, field_name: str) -> None:
    with pytest.raises(InvalidReleaseInput) as caught:
        release_version(git_sha, pr_number)
    assert caught.value.where == field_name
    assert field_name in str(caught.value)


@pytest.mark.parametrize(
    "version",
    ["v1.2.3", "0123456789AB", "pr0-0123456789ab", "PR7-0123456789ab", "0123456789ab:latest", "../0123456789ab", ""],
)
def test_malformed_versions_are_refused(version: str) -> None:
    with pytest.raises(InvalidReleaseInput, match="is not a release version") as caught:
        parse_release_version(version)
    assert caught.value.where == "version"


# ------------------------------------------------------------------------------------------ git refs and URLs


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A real repository to clone: if a hostile ref got through validation, git would act on it."""
    repo = tmp_path / "origin"
    repo.mkdir()
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for argv in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "one"]):
        subprocess.run(
            ["git", *argv], cwd=repo, check=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env}
        )
    return repo


HOSTILE_REFS = [
    "$(touch {sentinel})",
    "`touch {sentinel}`",
    "main;touch {sentinel}",
    "main && touch {sentinel}",
    "main|touch {sentinel}",
    "--upload-pack=touch {sentinel}",
    "-c core.sshCommand=touch {sentinel}",
    "main\ntouch {sentinel}",
    "main..HEAD",
    "refs/heads/",
    "main.lock",
    "@{-1}",
    "HEAD~1",
    ".hidden/branch",
]


@pytest.mark.parametrize("ref", HOSTILE_REFS)
def test_hostile_git_refs_are_refused_before_git_runs(origin: Path, tmp_path: Path, ref: str) -> None:
    sentinel = _sentinel()
    destination = tmp_path / "clone"
    with pytest.raises(InvalidReleaseInput) as caught:
        clone_source(f"file://{origin}", destination, git_ref=ref.replace("{sentinel}", str(sentinel)))
    assert caught.value.where == "git_ref"
    assert not destination.exists(), "refused before the clone started"
    assert not sentinel.exists()


@pytest.mark.parametrize(
    "url",
    [
        "ext::sh -c touch% {sentinel}",
        "--upload-pack=touch {sentinel}",
        "https://example.com/repo.git;touch {sentinel}",
        "file:///tmp/$(touch {sentinel})",
        "fd::3",
        "ftp://example.com/repo.git",
    ],
)
def test_hostile_git_urls_are_refused_before_git_runs(tmp_path: Path, url: str) -> None:
    sentinel = _sentinel()
    destination = tmp_path / "clone"
    with pytest.raises(InvalidReleaseInput) as caught:
        resolve_source(tmp_path, git_url=url.replace("{sentinel}", str(sentinel)), git_ref="main")
    assert caught.value.where == "git_url"
    assert not destination.exists() and not (tmp_path / "source").exists()
    assert not sentinel.exists()


def test_upload_and_git_url_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidReleaseInput, match="exactly one source") as caught:
        resolve_source(tmp_path, upload=tmp_path, git_url="https://example.com/r.git")
    assert caught.value.where == "source"
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------------------------- paths inside the source


@pytest.mark.parametrize("relative", ["..", "../outside", "a/../../outside", "/etc", "link-out", "link-out/x"])
def test_paths_that_leave_the_source_are_refused(tmp_path: Path, relative: str) -> None:
    root = tmp_path / "source"
    (root / "pipeline").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "link-out").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidReleaseInput, match="points outside the source") as caught:
        pipeline_root(SourceRef(location=str(root), git_sha=SHA), relative)
    assert "pipeline_dir" in str(caught.value)
    with pytest.raises(InvalidReleaseInput, match=r"image\.dockerfile"):
        resolve_inside(root, relative, what="image.dockerfile")


def _archive(tmp_path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    archive = tmp_path / "package.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return archive


@pytest.mark.parametrize(
    ("members", "links", "message"),
    [
        pytest.param({"../escaped.pb": b"x"}, None, "cannot extract the package archive", id="dot-dot-member"),
        pytest.param(
            {}, {"escaped.pb": "../../escaped-target"}, "cannot extract the package archive", id="symlink-out"
        ),
        pytest.param({"/tmp/escaped.pb": b"x"}, None, "points outside the tree", id="absolute-member"),
    ],
)
def test_package_archive_traversal_is_refused(
    tmp_path: Path, members: dict[str, bytes], links: dict[str, str] | None, message: str
) -> None:
    archive = _archive(tmp_path, members, links)
    workdir = tmp_path / "extract" / "inner"
    workdir.mkdir(parents=True)
    outside = sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(workdir))
    with pytest.raises(InvalidPackage, match=message):
        load_package(archive, workdir)
    assert sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(workdir)) == outside
    assert not Path("/tmp/escaped.pb").exists()


def test_binary_garbage_as_package_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "package.tgz"
    archive.write_bytes(b"\x00\xff" * 4096)
    with pytest.raises(InvalidPackage, match="cannot extract"):
        load_package(archive, tmp_path / "out")


def test_garbage_protobuf_in_package_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidPackage, match="not a valid TaskSpec"):
        load_package(_archive(tmp_path, {"0_task_1.pb": b"\xff" * 64}), tmp_path)


# ------------------------------------------------------------------------------------ images and build args


@dataclass
class RecordingDocker:
    """The part of the docker SDK a build uses (``client.api.build`` / ``.push``), recording every call."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def api(self) -> RecordingDocker:
        return self

    def build(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append({"build": kwargs})
        yield {"stream": "Step 1/1 : FROM scratch\n"}
        yield {"aux": {"ID": "sha256:" + "1" * 64}}

    def push(self, repository: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append({"push": repository, **kwargs})
        yield {"status": "pushed", "aux": {"Digest": "sha256:" + "2" * 64}}


@dataclass
class EmptyRegistry:
    """A registry (a :class:`~tasks.core.registry.ManifestReader`) that has the tag once ``docker`` pushed it."""

    docker: RecordingDocker | None = None

    def manifest_digest(self, repository: str, tag: str) -> str | None:
        if self.docker and any("push" in call for call in self.docker.calls):
            return "sha256:" + "2" * 64
        return None


@pytest.mark.parametrize(
    "value",
    ["$(touch {sentinel})", "`touch {sentinel}`", "x; touch {sentinel}", "x && touch {sentinel} #", "'\"$IFS\\"],
)
def test_build_args_reach_docker_verbatim_and_no_shell_runs_them(tmp_path: Path, value: str) -> None:
    sentinel = _sentinel()
    hostile = value.format(sentinel=sentinel)
    (tmp_path / "Dockerfile").write_text("ARG BASE=scratch\nFROM ${BASE}\nARG EXTRA\n")
    spec = DockerfileImage(repository="127.0.0.1:30000/taxiway/x", build_args={"EXTRA": hostile})
    docker = RecordingDocker()
    image = build_image(tmp_path, spec, git_sha=SHA, docker_client=docker, registry=EmptyRegistry(docker=docker))  # type: ignore[arg-type]
    build = docker.calls[0]["build"]
    assert build["buildargs"] == {"EXTRA": hostile}, "passed as data, not as a command line"
    assert build["network_mode"] == "host" and build["pull"] is False
    assert image.built and image.tag
    assert not sentinel.exists()


# ------------------------------------------------------------------------------------------------- promotion

PROMOTION_CONFIG = parse_pipeline_config(
    yaml.safe_dump(
        {
            "version": 1,
            "pipeline": "tiny",
            "packages": ["tinypkg"],
            "domains": {
                "development": {"raw_data_prefix": "s3://data/dev"},
                "staging": {"raw_data_prefix": "s3://data/staging"},
                "production": {"raw_data_prefix": "s3://data/prod"},
            },
        },
        sort_keys=False,
    )
)
V = "aaaaaaaaaaaa"
PASSED_IN = {
    name: ValidationReport("tiny", "tiny", V, name, Verdict.PASSED) for name in ("development", "staging", "production")
}


def _facts(**changes: Any) -> PromotionFacts:
    base: dict[str, Any] = {"version": V, "release_known": True}
    return PromotionFacts(**{**base, **changes})


PROMOTION_CASES: list[tuple[str, str, PromotionFacts, str]] = [
    ("unknown-domain", "qa", _facts(), "unknown domain 'qa'"),
    ("domain-case", "Staging", _facts(), "unknown domain 'Staging'"),
    ("unknown-version", "development", _facts(release_known=False), "unknown version"),
    ("pr-release", "staging", _facts(is_pr=True, registered_in=frozenset({"development"})), "pull-request release"),
    (
        "skip-staging",
        "production",
        _facts(registered_in=frozenset({"development"}), previous_validation=PASSED_IN["development"]),
        "skipping staging",
    ),
    (
        "backwards",
        "staging",
        _facts(
            registered_in=frozenset({"development", "staging", "production"}),
            previous_validation=PASSED_IN["development"],
        ),
        "promoting backwards",
    ),
    (
        "not-validated",
        "staging",
        _facts(registered_in=frozenset({"development"})),
        "never validated in development",
    ),
    (
        "validation-failed",
        "staging",
        _facts(
            registered_in=frozenset({"development"}),
            previous_validation=ValidationReport("tiny", "tiny", V, "development", Verdict.FAILED),
        ),
        "did not pass validation",
    ),
    ("package-gone", "development", _facts(package_present=False), "missing from the blob store"),
]


@pytest.mark.parametrize(
    ("to_domain", "facts", "reason"), [c[1:] for c in PROMOTION_CASES], ids=[c[0] for c in PROMOTION_CASES]
)
def test_promotion_skipping_going_backwards_or_unknown_is_refused(
    to_domain: str, facts: PromotionFacts, reason: str
) -> None:
    decision = decide_promotion(PROMOTION_CONFIG, to_domain, facts)
    assert isinstance(decision, Refuse), decision
    assert reason in decision.reason
    assert decision.fix, "a refusal says how to fix it"


def test_the_same_facts_in_order_promote() -> None:
    """The control case: the corpus refuses for its reasons, not because promotion never works."""
    facts = _facts(registered_in=frozenset({"development"}), previous_validation=PASSED_IN["development"])
    assert isinstance(decide_promotion(PROMOTION_CONFIG, "staging", facts), Promote)


# ------------------------------------------------------------------------------------------------------- CLI


class ConnectionCounter:
    """A TCP listener on 127.0.0.1 standing in for FlyteAdmin: it only counts who connects."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self._sock.settimeout(0.2)
        self.endpoint = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


@pytest.fixture
def admin_counter() -> Iterator[ConnectionCounter]:
    counter = ConnectionCounter()
    yield counter
    counter.close()


@pytest.fixture
def good_config(tmp_path: Path) -> Path:
    path = tmp_path / "taxiway.yaml"
    path.write_text(yaml.safe_dump(BASE, sort_keys=False))
    assert isinstance(load_pipeline_config(path), PipelineConfig)
    return path


CLI_CASES: list[tuple[str, list[str], str]] = [
    ("diff-unknown-domain", ["diff", "development", "qa"], "unknown domain 'qa'"),
    ("diff-shell-domain", ["diff", "development", "$(touch {sentinel})"], "unknown domain"),
    ("status-missing-config", ["status", "--config", "{missing}"], "pipeline config file not found"),
    ("plan-bad-config", ["plan", V, "--to", "staging", "--config", "{bad}"], "version: expected 1"),
]
# Found by this corpus (these used to reach FlyteAdmin or raise a traceback before checking).
CLI_GAPS = [
    pytest.param(
        ["promote", "$(touch {sentinel})", "--to", "staging"], "not a release version", id="promote-bad-version"
    ),
    pytest.param(["promote", V, "--to", "qa"], "unknown domain 'qa'", id="promote-unknown-domain"),
    pytest.param(["rollback", "--domain", "qa"], "unknown domain 'qa'", id="rollback-unknown-domain"),
    pytest.param(["freeze", "qa", "--reason", "x"], "unknown domain 'qa'", id="freeze-unknown-domain"),
]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        *[pytest.param(*c[1:], id=c[0]) for c in CLI_CASES],
        *CLI_GAPS,
    ],
)
def test_cli_refuses_bad_arguments_before_calling_flyte(
    tmp_path: Path, good_config: Path, admin_counter: ConnectionCounter, args: list[str], message: str
) -> None:
    sentinel = _sentinel()
    bad = tmp_path / "bad.yaml"
    bad.write_text(_with(lambda d: d.__setitem__("version", 3)))
    values = {"sentinel": sentinel, "missing": tmp_path / "nope.yaml", "bad": bad}
    argv = [arg.format(**values) for arg in args]
    if "--config" not in argv:
        argv += ["--config", str(good_config)]
    env = {"FLYTE_PLATFORM_URL": admin_counter.endpoint, "FLYTE_PLATFORM_INSECURE": "true"}
    result = CliRunner().invoke(cli, argv, env=env)
    assert result.exit_code == EXIT_INVALID, result.output
    assert message.format(**values) in result.stderr
    assert admin_counter.connections == 0
    assert not sentinel.exists()


def test_cli_without_flyte_endpoint_is_a_usage_error(good_config: Path) -> None:
    result = CliRunner().invoke(cli, ["status", "--config", str(good_config)], env={"FLYTE_PLATFORM_URL": ""})
    assert result.exit_code == 2
    assert "FLYTE_PLATFORM_URL is not set" in result.stderr


@pytest.mark.parametrize(
    "data",
    [pytest.param(b"\x00\x01\x02\xff" * 1024, id="binary"), pytest.param(BILLION_LAUGHS.encode(), id="yaml-bomb")],
)
def test_cli_config_validate_refuses_binary_and_bombs(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "taxiway.yaml"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["config", "validate", str(path)])
    assert result.exit_code == EXIT_INVALID
    assert result.stdout == ""
    assert f"{path}:" in result.stderr and "fix:" in result.stderr
    assert sorted(tmp_path.iterdir()) == [path]


def test_every_refusal_is_a_taxiway_error() -> None:
    """The classes the corpus expects are Taxiway's own (permanent, never retried)."""
    for error in (InvalidConfig, InvalidReleaseInput, InvalidPackage, SourceNotFound):
        assert issubclass(error, TaxiwayError) and not error.retryable
