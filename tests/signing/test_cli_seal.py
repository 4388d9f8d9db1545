"""``pki seal`` issues a unit's seal certificate; ``pki root --der`` and ``pki verify-pdf`` let a
reader trust our root and check a sealed PDF from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from cryptography import x509
from sqlalchemy.orm import Session, sessionmaker

import signing
from signing import make_pki_cli

ENV = {"WEIJIAN_CA_PASSPHRASE": "cli-root-passphrase", "WEIJIAN_SEAL_PASSPHRASE": "cli-seal-passphrase"}
DIRECTORY = {"610302": "渭滨区卫生监督所"}


@pytest.fixture
def pki(session_factory: sessionmaker[Session]) -> click.Group:
    @contextmanager
    def session_scope() -> Iterator[Session]:
        with session_factory() as session:
            yield session
            session.commit()

    return make_pki_cli(session_scope, lambda _session, unit: DIRECTORY.get(unit))


def test_seal_root_and_verify_pdf(pki: click.Group, session_factory: sessionmaker[Session], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from weasyprint import HTML

    runner = CliRunner()
    assert runner.invoke(pki, ["init"], env=ENV).exit_code == 0
    result = runner.invoke(pki, ["seal", "999999"], env=ENV)
    assert result.exit_code == 1 and "not in the directory" in result.output
    result = runner.invoke(pki, ["seal", "610302"], env={**ENV, "WEIJIAN_SEAL_PASSPHRASE": ""})
    assert result.exit_code == 1 and "WEIJIAN_SEAL_PASSPHRASE" in result.output
    result = runner.invoke(pki, ["seal", "610302"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "渭滨区卫生监督所" in result.output and "cli-seal-passphrase" not in result.output

    root_file = tmp_path / "weijian-root.cer"
    assert runner.invoke(pki, ["root", "--der", "--out", str(root_file)]).exit_code == 0
    root = x509.load_der_x509_certificate(root_file.read_bytes())

    monkeypatch.setenv("WEIJIAN_SEAL_PASSPHRASE", ENV["WEIJIAN_SEAL_PASSPHRASE"])
    with session_factory() as session:
        assert signing.ca_certificate(session) == root
        pdf = signing.sign_pdf(HTML(string="<p>决定书</p>").write_pdf(), signing.unit_seal(session, "610302"))
    sealed = tmp_path / "sealed.pdf"
    sealed.write_bytes(pdf)
    result = runner.invoke(pki, ["verify-pdf", str(sealed)])
    assert result.exit_code == 0 and "签章有效" in result.output and "渭滨区卫生监督所" in result.output
    start = pdf.index(b"/MediaBox")
    sealed.write_bytes(pdf[:start] + b"/MediaBoy" + pdf[start + len(b"/MediaBox"):])
    result = runner.invoke(pki, ["verify-pdf", str(sealed)])
    assert result.exit_code == 1 and "签章无效" in result.output
