"""``pki seal`` (issue a unit's seal certificate) and ``pki verify-pdf`` (check a sealed PDF).

Kept apart from ``cli.py`` so each file stays small; ``make_pki_cli`` registers both. The unit's
name comes from the caller's directory (``unit_names``), so the certificate names the unit
exactly as documents print it; ``--name`` is needed only without a directory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from sqlalchemy.orm import Session

from .cli import SessionScope, _as_click_errors, _ca_passphrase
from .pades import SealStatus, verify_pdf
from .pki import ca_certificate
from .seals import SEAL_PASSPHRASE_ENV, issue_seal_certificate, latest_crl_der

UnitNames = Callable[[Session, str], str | None]


def seal_command(session_scope: SessionScope, unit_names: UnitNames | None) -> click.Command:
    @click.command("seal", help=f"Issue UNIT a seal certificate (电子印章) locked with ${SEAL_PASSPHRASE_ENV}.")
    @click.argument("unit")
    @click.option("--name", "unit_name", help="The unit's name (defaults to the directory's).")
    def seal_cmd(unit: str, unit_name: str | None) -> None:
        secret = _ca_passphrase()
        with _as_click_errors(), session_scope() as session:
            name = unit_name or (unit_names(session, unit) if unit_names else None)
            if not name:
                raise click.ClickException(f"unit {unit!r} is not in the directory: pass --name")
            cert = issue_seal_certificate(session, unit, name, ca_passphrase=secret)
            click.echo(f"issued seal certificate {cert.serial} to {unit} ({name}), "
                       f"valid until {cert.not_after:%Y-%m-%d}")

    return seal_cmd


def verify_pdf_command(session_scope: SessionScope) -> click.Command:
    @click.command("verify-pdf", help="Check a sealed PDF against the agency root (exit 1 unless valid).")
    @click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def verify_cmd(pdf: Path) -> None:
        with _as_click_errors(), session_scope() as session:
            report = verify_pdf(pdf.read_bytes(), ca_certificate(session), crl_der=latest_crl_der(session))
        click.echo(f"{report.label_zh} ({report.status.value}): {report.signer_name or '-'}; {report.detail}")
        if report.status is not SealStatus.VALID:
            raise SystemExit(1)

    return verify_cmd
