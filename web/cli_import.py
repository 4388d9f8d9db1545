"""``weijian import-camunda FILE... [--out DIR] [--deploy]``: bring Camunda Modeler files in.

Converts the BPMN and DMN files together (a business rule task needs its DMN in the same run),
prints what could not be converted as ``file: element (name): message`` and exits 1 without
writing or deploying anything when there is any: a half-converted process must not run. With no
problem, ``--out`` writes the converted files and ``--deploy`` deploys them as one bundle.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("import-camunda")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the converted files into this folder.")
@click.option("--deploy", "do_deploy", is_flag=True, help="Deploy the converted files as one bundle.")
@click.option("--verbose", "-v", is_flag=True, help="Also list every conversion made.")
def import_camunda(files: tuple[Path, ...], out_dir: Path | None, do_deploy: bool, verbose: bool) -> None:
    """Convert Camunda Modeler BPMN/DMN FILES to Weijian's encoding (see docs/bpmn-import.md)."""
    from engine.camunda_import import convert, deployable
    from engine.camunda_report import format_problem

    names = [f.name for f in files]
    if len(set(names)) != len(names):
        click.echo("import failed: two files have the same name", err=True)
        sys.exit(2)
    result = convert({f.name: f.read_bytes() for f in files})
    if verbose:
        for item in result.converted:
            click.echo(f"converted {item['file']}: {item['element'] or '-'}: {item['what']}")
    for problem in result.problems:
        click.echo(format_problem(problem), err=True)
    if not deployable(result):
        click.echo(f"{len(result.problems)} problem(s): nothing written or deployed; fix them in the Modeler "
                   "and import again", err=True)
        sys.exit(1)
    click.echo(f"{len(result.files)} file(s) converted, {len(result.converted)} change(s), no problem")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, data in result.files.items():
            (out_dir / name).write_bytes(data)
            click.echo(f"wrote {out_dir / name}")
    if do_deploy:
        _deploy(result.files)


def _deploy(files: dict[str, bytes]) -> None:
    from engine import EngineError, deploy
    from engine.actor import SYSTEM
    from integrations.db import session_scope

    try:
        with session_scope() as session:
            for d in deploy(session, files, SYSTEM):
                click.echo(f"{d.process_key} v{d.version} ({d.content_hash[:12]})")
    except EngineError as exc:
        click.echo(f"deploy failed: {exc.message}", err=True)
        sys.exit(1)
