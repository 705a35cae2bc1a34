"""Task output caching (``@task(cache=True, cache_version=...)``), like propeller with DataCatalog.

The key follows ``flytepropeller/pkg/controller/nodes/catalog/datacatalog/transformer.go``: the
dataset is the task's name in the task's own project/domain plus the cache version and a hash of the
interface (``GenerateDatasetIDForTask``), so caches are never shared across domains; the tag is a
hash of the inputs (minus ``cache_ignore_input_vars``). A hit writes the cached outputs as the node's
outputs and starts no process or container; the node execution records ``CACHE_HIT`` (a miss that
succeeds records ``CACHE_POPULATED``). ``overwrite_cache`` runs the task and replaces the entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from typing import Protocol

from flyteidl.core import catalog_pb2, identifier_pb2, literals_pb2, tasks_pb2
from flyteidl.event import event_pb2
from google.protobuf.message import Message

from localflyte.context import Clock
from localflyte.executor.model import NodeOutcome, NodePhase
from localflyte.executor.nodes import NodeContext, NodeHandler
from localflyte.executor.task_node import find_task
from localflyte.store import Store

log = logging.getLogger(__name__)

CacheStatus = catalog_pb2.CatalogCacheStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS task_cache (
    project TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    outputs BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (project, domain, name, version, input_hash)
);
"""


def _digest(message: Message) -> str:
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


@dataclass(frozen=True)
class CacheKey:
    """Where a task's cached outputs live: dataset (project, domain, name, version) and tag (input hash)."""

    project: str
    domain: str
    name: str
    version: str
    input_hash: str

    @classmethod
    def for_task(cls, task: tasks_pb2.TaskTemplate, inputs: literals_pb2.LiteralMap) -> CacheKey:
        ignored = set(task.metadata.cache_ignore_input_vars)
        kept = literals_pb2.LiteralMap(literals={k: v for k, v in inputs.literals.items() if k not in ignored})
        interface_hash = _digest(task.interface)[:8]
        return cls(
            project=task.id.project,
            domain=task.id.domain,
            name=task.id.name,
            version=f"{task.metadata.discovery_version}-{interface_hash}",
            input_hash=_digest(kept),
        )

    def catalog_metadata(self) -> catalog_pb2.CatalogMetadata:
        dataset = identifier_pb2.Identifier(
            resource_type=identifier_pb2.DATASET,
            project=self.project,
            domain=self.domain,
            name=f"flyte_task-{self.name}",
            version=self.version,
        )
        tag = catalog_pb2.CatalogArtifactTag(artifact_id=self.input_hash, name=f"flyte_cached-{self.input_hash}")
        return catalog_pb2.CatalogMetadata(dataset_id=dataset, artifact_tag=tag)


class TaskCache(Protocol):
    def get(self, key: CacheKey) -> literals_pb2.LiteralMap | None: ...

    def put(self, key: CacheKey, outputs: literals_pb2.LiteralMap) -> None: ...


class SqliteTaskCache:
    """Cache entries in localflyte's database (they survive a restart, as DataCatalog's do)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        store.ensure_schema(SCHEMA)

    def get(self, key: CacheKey) -> literals_pb2.LiteralMap | None:
        row = self._store.query_one(
            "SELECT outputs FROM task_cache WHERE project=? AND domain=? AND name=? AND version=? AND input_hash=?",
            (key.project, key.domain, key.name, key.version, key.input_hash),
        )
        return None if row is None else literals_pb2.LiteralMap.FromString(row["outputs"])

    def put(self, key: CacheKey, outputs: literals_pb2.LiteralMap) -> None:
        now = self._clock.now()
        self._store.execute(
            "INSERT INTO task_cache (project, domain, name, version, input_hash, outputs, created_at)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT (project, domain, name, version, input_hash)"
            " DO UPDATE SET outputs = excluded.outputs, created_at = excluded.created_at",
            (key.project, key.domain, key.name, key.version, key.input_hash, outputs.SerializeToString(), now),
        )


def _metadata(status: int, key: CacheKey) -> event_pb2.TaskNodeMetadata:
    return event_pb2.TaskNodeMetadata(cache_status=status, catalog_key=key.catalog_metadata())  # type: ignore[arg-type]


def cached_task_handler(run_task: NodeHandler, cache: TaskCache) -> NodeHandler:
    """Wrap the task handler: serve cacheable tasks from ``cache``, fill it after a successful run."""

    def handle(context: NodeContext) -> NodeOutcome:
        task = find_task(context)
        if task is None or not task.metadata.discoverable:
            return run_task(context)
        key = CacheKey.for_task(task, context.inputs)
        if not context.services.request.overwrite_cache:
            outputs = cache.get(key)
            if outputs is not None:
                log.info("cache hit node=%s task=%s version=%s", context.unique_id, key.name, key.version)
                uri = context.services.layout.node_outputs(context.unique_id)
                context.services.blobs.write_proto(uri, outputs)
                return NodeOutcome(
                    phase=NodePhase.SUCCEEDED,
                    outputs=outputs,
                    output_uri=uri,
                    task_node_metadata=_metadata(CacheStatus.CACHE_HIT, key),
                )
        outcome = run_task(context)
        if not outcome.succeeded:
            return dataclasses.replace(outcome, task_node_metadata=_metadata(CacheStatus.CACHE_MISS, key))
        cache.put(key, outcome.outputs or literals_pb2.LiteralMap())
        return dataclasses.replace(outcome, task_node_metadata=_metadata(CacheStatus.CACHE_POPULATED, key))

    return handle
