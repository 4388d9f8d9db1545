"""``pki`` commands: init the agency root, issue, revoke, publish/export the CRL.

The web app mounts the group as ``weijian pki …`` / ``flask pki …``; it passes a
``session_scope`` (a zero-argument callable returning a context manager that yields a
Session and commits on success), so this module knows nothing of Flask or settings.

Passphrases are read with hidden prompts (or from an environment variable named on the
command line, for scripted demo setups) and are never echoed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from .errors import SigningError
from .pki import (
    CA_PASSPHRASE_ENV,
    DEFAULT_CA_NAME,
    DEFAULT_ORGANIZATION,
    REVOCATION_REASONS,
    ca_certificate,
    init_ca,
    issue_certificate,
    latest_crl,
    publish_crl,
    revoke_certificate,
)

SessionScope = Callable[[], AbstractContextManager[Session]]


def _ca_passphrase(confirm: bool = False) -> str:
    value = os.environ.get(CA_PASSPHRASE_ENV)
    if value:
        return value
    return str(click.prompt("CA passphrase", hide_input=True, confirmation_prompt=confirm))


@contextmanager
def _as_click_errors() -> Iterator[None]:
    """Operational errors become a one-line message and exit status 1, not a traceback."""
    try:
        yield
    except (SigningError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


def make_pki_cli(session_scope: SessionScope,
                 unit_names: Callable[[Session, str], str | None] | None = None) -> click.Group:
    """Build the ``pki`` click group bound to ``session_scope``; ``unit_names`` looks up a unit's name."""
    from .cli_seal import seal_command, verify_pdf_command  # cli_seal imports this module

    group = click.Group("pki", help="Agency PKI for digital signatures (根证书、签名证书、电子印章、吊销).")
    for factory in (_init_command, _issue_command, _revoke_command, _crl_command, _root_command):
        group.add_command(factory(session_scope))
    group.add_command(seal_command(session_scope, unit_names))
    group.add_command(verify_pdf_command(session_scope))
    return group


def _init_command(session_scope: SessionScope) -> click.Command:
    @click.command("init", help="Create the agency root CA (EC P-256) and an empty CRL.")
    @click.option("--name", "common_name", default=DEFAULT_CA_NAME, show_default=True)
    @click.option("--organization", default=DEFAULT_ORGANIZATION, show_default=True)
    def init_cmd(common_name: str, organization: str) -> None:
        secret = _ca_passphrase(confirm=True)
        with _as_click_errors(), session_scope() as session:
            ca = init_ca(session, ca_passphrase=secret, common_name=common_name, organization=organization)
            click.echo(f"agency CA created: serial {ca.serial}, SHA-256 fingerprint {ca.fingerprint_sha256}")

    return init_cmd


def _issue_command(session_scope: SessionScope) -> click.Command:
    @click.command("issue", help="Issue USER a signing certificate in a PKCS#12 locked with their "
                                 "passphrase.")
    @click.argument("user")
    @click.option("--name", "display_name", help="Name in the certificate (defaults to USER).")
    @click.option("--passphrase-env", metavar="VAR",
                  help="Read the user's passphrase from environment variable VAR instead of prompting.")
    def issue_cmd(user: str, display_name: str | None, passphrase_env: str | None) -> None:
        if passphrase_env:
            passphrase = os.environ.get(passphrase_env)
            if not passphrase:
                raise click.ClickException(f"environment variable {passphrase_env} is empty or unset")
        else:
            click.echo(f"Let {user} type the passphrase that will protect their signing key.")
            passphrase = str(click.prompt(f"Passphrase for {user}", hide_input=True,
                                          confirmation_prompt=True))
        secret = _ca_passphrase()
        with _as_click_errors(), session_scope() as session:
            cert = issue_certificate(session, user, display_name or user, passphrase, ca_passphrase=secret)
            click.echo(f"issued certificate {cert.serial} to {user}, valid until {cert.not_after:%Y-%m-%d}")

    return issue_cmd


def _revoke_command(session_scope: SessionScope) -> click.Command:
    @click.command("revoke", help="Revoke USER's certificates and publish a new CRL.")
    @click.argument("user")
    @click.option("--reason", type=click.Choice(sorted(REVOCATION_REASONS)), default="unspecified",
                  show_default=True)
    def revoke_cmd(user: str, reason: str) -> None:
        secret = _ca_passphrase()
        with _as_click_errors(), session_scope() as session:
            rows = revoke_certificate(session, user, reason=reason, ca_passphrase=secret)
            click.echo(f"revoked {', '.join(r.serial for r in rows)}; CRL published")

    return revoke_cmd


def _crl_command(session_scope: SessionScope) -> click.Command:
    @click.command("crl", help="Publish a fresh CRL (run weekly) and optionally write it out.")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the CRL here (PEM).")
    @click.option("--no-publish", is_flag=True, help="Only export the current CRL.")
    def crl_cmd(out: Path | None, no_publish: bool) -> None:
        with _as_click_errors(), session_scope() as session:
            row = latest_crl(session) if no_publish else publish_crl(session, ca_passphrase=_ca_passphrase())
            if row is None:
                raise click.ClickException("no CRL published yet")
            click.echo(f"CRL #{row.number}, next update {row.next_update:%Y-%m-%d %H:%M} UTC")
            if out is not None:
                out.write_bytes(x509.load_der_x509_crl(row.crl_der).public_bytes(serialization.Encoding.PEM))
                click.echo(f"written to {out}")

    return crl_cmd


def _root_command(session_scope: SessionScope) -> click.Command:
    @click.command("root", help="Print the agency root certificate (PEM) for third-party verifiers "
                                "and PDF readers (import it as a trusted root to see seals as valid).")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write it here instead.")
    @click.option("--der", is_flag=True, help="DER (.cer) instead of PEM, for readers that want it.")
    def root_cmd(out: Path | None, der: bool) -> None:
        with _as_click_errors(), session_scope() as session:
            encoding = serialization.Encoding.DER if der else serialization.Encoding.PEM
            pem = ca_certificate(session).public_bytes(encoding)
        if out is None and der:
            raise click.ClickException("--der needs --out FILE")
        if out is None:
            click.echo(pem.decode(), nl=False)
        else:
            out.write_bytes(pem)
            click.echo(f"written to {out}")

    return root_cmd
