"""SQLite tables for executions, node and task executions and signals.

Mirrors flyteadmin's models (``flyteadmin/pkg/repositories/models``): identity columns and the
columns list filters use, plus the spec / closure protobufs exactly as FlyteAdmin serialises them.
"""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    mode INTEGER NOT NULL DEFAULT 0,
    launch_entity TEXT NOT NULL,
    launch_plan_name TEXT NOT NULL DEFAULT '',
    workflow_name TEXT NOT NULL DEFAULT '',
    task_name TEXT NOT NULL DEFAULT '',
    spec BLOB NOT NULL,
    closure BLOB NOT NULL,
    resolved_config BLOB NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}',
    inputs_uri TEXT NOT NULL DEFAULT '',
    user_inputs_uri TEXT NOT NULL DEFAULT '',
    cluster TEXT NOT NULL DEFAULT '',
    user TEXT NOT NULL DEFAULT '',
    abort_cause TEXT NOT NULL DEFAULT '',
    error_kind TEXT,
    error_code TEXT,
    parent_node_execution TEXT NOT NULL DEFAULT '',
    source_execution_seq INTEGER,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    started_at REAL,
    duration REAL NOT NULL DEFAULT 0,
    UNIQUE (project, domain, name)
);
CREATE INDEX IF NOT EXISTS executions_by_phase ON executions (project, domain, phase);
CREATE TABLE IF NOT EXISTS node_executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    node_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    closure BLOB NOT NULL,
    metadata BLOB NOT NULL,
    input_uri TEXT NOT NULL DEFAULT '',
    parent_seq INTEGER,
    parent_task_seq INTEGER,
    dynamic_closure_uri TEXT NOT NULL DEFAULT '',
    error_kind TEXT,
    error_code TEXT,
    cache_status TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    started_at REAL,
    duration REAL NOT NULL DEFAULT 0,
    UNIQUE (project, domain, name, node_id)
);
CREATE TABLE IF NOT EXISTS task_executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    node_id TEXT NOT NULL,
    task_project TEXT NOT NULL,
    task_domain TEXT NOT NULL,
    task_name TEXT NOT NULL,
    task_version TEXT NOT NULL,
    retry_attempt INTEGER NOT NULL,
    phase TEXT NOT NULL,
    phase_version INTEGER NOT NULL DEFAULT 0,
    closure BLOB NOT NULL,
    input_uri TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    started_at REAL,
    duration REAL NOT NULL DEFAULT 0,
    UNIQUE (project, domain, name, node_id, task_project, task_domain, task_name, task_version, retry_attempt)
);
CREATE TABLE IF NOT EXISTS signals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    signal_id TEXT NOT NULL,
    type BLOB NOT NULL,
    value BLOB,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (project, domain, name, signal_id)
);
"""
