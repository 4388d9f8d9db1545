"""Process administration benchmark: ``python -m bench.admin --json``.

On a PostgreSQL database of its own (``weijian_bench_admin``, created by Alembic like production
and dropped afterwards; the whole run is skipped, with the reason in the JSON, when PostgreSQL
at 127.0.0.1 is unreachable), with every registered process package deployed through its hook
as ``weijian deploy`` does. Prints one JSON object:

* ``validate_ms``: median of ``engine.validation.validate_bundle`` on the penalty bundle (the
  files the penalty package deploys: its DMN tables as administrators left them) with the
  context the process administration pages build (``web.process_admin_support.validation_context``
  without Flask): forms registered by the packages, the directory's roles, the registered
  operators, the deployed processes (their calls, the messages they catch) but the one edited.
* ``deploy_ms``: median time to deploy the penalty bundle as a new version (a documentation text
  changed each round, so the content hash differs): ``engine.definitions.deploy`` (parse, checks,
  diff against the previous version, the audit event) and the commit, each round in its own
  session as a request would; ``deploy_validated_ms`` is the administrator's path
  (``engine.process_admin.deploy_files``: the whole validation first), ``deploy_sqlite_ms`` the
  same as ``deploy_ms`` on a SQLite file.
* ``migrate.*``: ``--instances`` (1,000) penalty ordinary cases started as the penalty pages start
  them (``processes.penalty.start_case``: case record and rules snapshot; each waits in
  ``register_lead``), a new version deployed (the documentation of ``register_lead`` changed, so
  the live task is a changed element and its inbox row is rebuilt), then one batch
  (``engine.migration_batch.start_batch``) run by ``run_batch`` in chunks of 50, as the worker
  runs it. ``per_instance_ms`` is the batch's wall time / instances; ``moved`` and ``left`` come
  from the batch, ``on_new_version`` is checked in the table afterwards.
* ``instances.search_p95_ms`` (and the rest of its numbers): ``bench.admin_instances`` over
  200,000 instances in a database of its own (``--skip-search`` leaves it out: filling takes a
  few minutes).

``--profile`` adds the top functions (cumulative time) of one ``migrate`` under cProfile to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from engine import Actor
from engine.actor import SYSTEM
from engine.dbconnect import make_engine
from engine.definitions import deploy
from engine.migration import migrate
from engine.migration_batch import progress, run_batch, start_batch
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from engine.process_admin import deploy_files
from engine.validation import Context, blocking, validate_bundle
from migrations.runner import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DB = "weijian_bench_admin"
ADMIN = Actor.of("bench.admin", ["admin"], ["610302"], is_admin=True)
OFFICER = Actor.of("bench.officer", ["officer"], ["610302"])
PROCESS = "penalty_ordinary"
MAIN_FILE = "penalty_ordinary.bpmn"
# The documentation of the case's first task: what each round (and the migration's v2) changes.
DOC_RE = re.compile(rb'(<bpmn:userTask id="register_lead".*?<bpmn:documentation>)(.*?)(</bpmn:documentation>)', re.S)
INSTANCES, ROUNDS, VALIDATE_RUNS, CHUNK = 1000, 8, 15, 50


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _median_ms(samples: list[float]) -> float:
    return _ms(statistics.median(samples))


# -- the database --------------------------------------------------------------------------------------

def _base_url() -> str:
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or PG_DEFAULT
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def _database_url(base: str, database: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def _admin_engine(base: str) -> Engine:
    return make_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def create_database(base: str) -> str | None:
    """The URL of a fresh, migrated ``weijian_bench_admin``; None (reason on stderr) when unreachable."""
    try:
        admin = _admin_engine(base)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
        admin.dispose()
    except Exception as exc:
        print(f"postgres unreachable: {exc}".splitlines()[0], file=sys.stderr)
        return None
    url = _database_url(base, PG_DB)
    upgrade(url)
    return url


def drop_database(base: str) -> None:
    admin = _admin_engine(base)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
    admin.dispose()


# -- the penalty bundle and the validation context -----------------------------------------------------

def penalty_folder() -> Path:
    from processes.penalty.dmn_overrides import PENALTY_DIR

    return Path(PENALTY_DIR)


def penalty_bundle(session: Session) -> dict[str, bytes]:
    """The files the penalty package deploys: the administrators' DMN tables in place of the files'."""
    from processes.penalty.dmn_overrides import bundle_files

    return bundle_files(session, penalty_folder())


def with_documentation(files: Mapping[str, bytes], note: str) -> dict[str, bytes]:
    """The bundle with ``note`` appended to the documentation of ``register_lead``."""
    changed, count = DOC_RE.subn(lambda m: m.group(1) + m.group(2) + note.encode("utf-8") + m.group(3),
                                 files[MAIN_FILE], count=1)
    assert count == 1, "register_lead has no documentation to change"
    return {**files, MAIN_FILE: changed}


def validation_context(session: Session, leaving_out: str | None = PROCESS) -> Context:
    """The pages' context (``processes.validation_context``), without the penalty process."""
    from processes.validation_context import validation_context as build

    return build(session, leaving_out)


def deploy_everything(factory: sessionmaker[Session]) -> None:
    """Every registered package through its deploy hook, as ``weijian deploy`` does."""
    from processes.registry import deploy_packages, discover

    discover()
    with factory() as session:
        deploy_packages(session, SYSTEM)
        session.commit()


# -- the measurements ----------------------------------------------------------------------------------

def measure_validate(files: Mapping[str, bytes], context: Context, runs: int = VALIDATE_RUNS) -> dict[str, Any]:
    problems = validate_bundle(files, context)  # warm-up (imports, lxml, the parser)
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        validate_bundle(files, context)
        timings.append(time.perf_counter() - t0)
    return {"validate_ms": _median_ms(timings), "validate_max_ms": _ms(max(timings)), "validate_runs": runs,
            "validate_files": len(files), "validate_bytes": sum(len(v) for v in files.values()),
            "validate_errors": len(blocking(problems)), "validate_warnings": len(problems) - len(blocking(problems))}


def measure_deploy(factory: sessionmaker[Session], base: Mapping[str, bytes], rounds: int, label: str,
                   deployer: Callable[[Session, dict[str, bytes], str], list[ProcessDefinition]]) -> list[float]:
    """Seconds per round: a changed bundle deployed and committed in a session of its own."""
    timings = []
    for n in range(rounds + 1):  # the first round warms up (statement cache, spec parse paths)
        files = with_documentation(base, f"（{label}第{n}轮）")
        t0 = time.perf_counter()
        with factory() as session:
            deployed = deployer(session, files, f"bench {label} round {n}")
            session.commit()
            assert any(d.process_key == PROCESS and d.summary.get("diff") for d in deployed), "no new version"
        if n:
            timings.append(time.perf_counter() - t0)
    return timings


def _plain_deploy(session: Session, files: dict[str, bytes], reason: str) -> list[ProcessDefinition]:
    return deploy(session, files, ADMIN, reason=reason)


def _checked_deploy(context: Context) -> Callable[[Session, dict[str, bytes], str], list[ProcessDefinition]]:
    def run(session: Session, files: dict[str, bytes], reason: str) -> list[ProcessDefinition]:
        return deploy_files(session, ADMIN, files, reason, context)
    return run


def deploy_sqlite(files: Mapping[str, bytes], rounds: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'admin-bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            factory = sessionmaker(engine, expire_on_commit=False)
            with factory() as session:
                deploy(session, dict(files), SYSTEM)
                session.commit()
            return _median_ms(measure_deploy(factory, files, rounds, "sqlite", _plain_deploy))
        finally:
            engine.dispose()


def start_cases(factory: sessionmaker[Session], instances: int) -> list[str]:
    """Penalty ordinary cases as the penalty pages start them, one transaction each."""
    from processes.penalty import start_case

    ids = []
    for _ in range(instances):
        with factory() as session:
            case = start_case(session, OFFICER, unit_id="610302", unit_name="宝鸡市渭滨区卫生健康局",
                              unit_short_name="渭", procedure="ordinary")
            session.commit()
            ids.append(case.instance_id)
    return ids


def profile_one(factory: sessionmaker[Session], instance_ids: list[str], definition_id: int) -> None:
    """One ``migrate`` under cProfile after an unprofiled one (both rolled back); top functions to stderr."""
    profiler = cProfile.Profile()
    for n, instance_id in enumerate(instance_ids[:2]):
        with factory() as session:
            if n:
                profiler.enable()
            migrate(session, ADMIN, instance_id, definition_id, "bench profile")
            session.flush()
            profiler.disable()
            session.rollback()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    print(out.getvalue(), file=sys.stderr)


def measure_migrate(factory: sessionmaker[Session], instances: int, chunk: int, profile: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    ids = start_cases(factory, instances)
    start_s = time.perf_counter() - t0
    with factory() as session:
        old = session.scalar(select(ProcessInstance.definition_id).where(ProcessInstance.id == ids[0]))
        files = with_documentation(penalty_bundle(session), "（迁移基准：新版本）")
        (target,) = [d for d in deploy(session, files, ADMIN, reason="bench: v2 for migration")
                     if d.process_key == PROCESS]
        session.commit()
        target_id, target_version = target.id, target.version
    if profile:
        profile_one(factory, ids, target_id)
    with factory() as session:
        batch = start_batch(session, ADMIN, target_id, ids, "bench: move every case to the new version")
        session.commit()
        batch_id = batch.id
    t0 = time.perf_counter()
    finished = run_batch(factory, batch_id, chunk)
    batch_s = time.perf_counter() - t0
    assert finished is not None
    done = progress(finished)
    with factory() as session:
        on_new = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.id.in_(ids), ProcessInstance.definition_id == target_id)) or 0
        ready = session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.instance_id.in_(ids), HumanTask.status == "ready", HumanTask.task_name == "register_lead")) or 0
    failures = sorted({str(r.get("reason")) for r in finished.results.values() if not r.get("ok")})
    return {"process": PROCESS, "why": "the real process: its cases start fast enough through start_case",
            "instances": instances, "chunk": chunk, "per_instance_ms": _ms(batch_s / instances),
            "batch_s": round(batch_s, 2), "moved": done["moved"], "left": done["left"],
            "on_new_version": on_new, "all_on_new_version": on_new == instances,
            "ready_register_lead_after": ready, "from_definition": old, "to_version": target_version,
            "start_cases_s": round(start_s, 1), "failures": failures[:3]}


def measure_postgres(url: str, opts: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    try:
        deploy_everything(factory)
        with factory() as session:
            files = penalty_bundle(session)
            context = validation_context(session)
        result: dict[str, Any] = measure_validate(files, context, opts.validate_runs)
        result["deploy_ms"] = _median_ms(measure_deploy(factory, files, opts.rounds, "pg", _plain_deploy))
        result["deploy_validated_ms"] = _median_ms(measure_deploy(factory, files, opts.rounds, "pg-checked",
                                                                  _checked_deploy(context)))
        result["deploy_rounds"] = opts.rounds
        result["deploy_bundle"] = sorted(files)
        result["deploy_sqlite_ms"] = deploy_sqlite(files, opts.rounds)
        result["migrate"] = measure_migrate(factory, opts.instances, opts.chunk, opts.profile)
        return result
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    parser.add_argument("--instances", type=int, default=INSTANCES, help="cases to migrate")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="instances per run_batch transaction")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="deploys timed per backend (median reported)")
    parser.add_argument("--validate-runs", type=int, default=VALIDATE_RUNS)
    parser.add_argument("--skip-search", action="store_true", help="leave out the 200,000-instance search bench")
    parser.add_argument("--search-instances", type=int, default=None, help="instances for the search bench")
    parser.add_argument("--profile", action="store_true", help="cProfile one migrate (top functions to stderr)")
    opts = parser.parse_args(argv)
    opts.instances, opts.rounds = max(1, min(opts.instances, 100_000)), max(1, min(opts.rounds, 100))
    opts.chunk, opts.validate_runs = max(1, opts.chunk), max(1, min(opts.validate_runs, 1000))
    base = _base_url()
    result: dict[str, Any] = {"postgres": _database_url(base, PG_DB).rsplit("@", 1)[-1]}
    started = time.perf_counter()
    url = create_database(base)
    if url is None:
        result["skipped"] = "PostgreSQL is unreachable at " + result.pop("postgres")
    else:
        try:
            result.update(measure_postgres(url, opts))
        finally:
            drop_database(base)
        if opts.skip_search:
            result["instances.search_p95_ms"] = None
            result["instances.skipped"] = "--skip-search"
        else:
            from bench.admin_instances import INSTANCES as SEARCH_INSTANCES
            from bench.admin_instances import run_search_bench

            result.update(run_search_bench(instances=opts.search_instances or SEARCH_INSTANCES, base_url=base))
    result["total_s"] = round(time.perf_counter() - started, 1)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()
