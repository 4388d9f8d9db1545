"""Digital signatures for deliberation records (远程案件合议 with 数字签名, 电子签名法 Art. 13).

The public surface; everything else is private. Typical use::

    record = create_record(session, DeliberationData(...))
    signer = ServerKeySigner.for_user(session, user_id, passphrase)   # PassphraseError if wrong
    report = sign_record(session, record.id, user_id, signer)         # VALID, or INVALID + reason
    verification = verify_record(session, record.id)                  # one report per signature

Services take a caller-owned ``Session`` and never commit. See ``signing/README.md``.
"""

from __future__ import annotations

from .cli import make_pki_cli
from .draw_records import DrawnEntity, DrawRecordData, DrawSigner, build_draw_record_xml, create_draw_record
from .errors import (
    CaAlreadyInitializedError,
    CaNotInitializedError,
    CaPassphraseError,
    NoCertificateError,
    NoSealCertificateError,
    PassphraseError,
    RecordInvalidError,
    SealPassphraseError,
    SigningError,
    UnknownRecordError,
    WeakPassphraseError,
)
from .pades import SEAL_FIELD, PdfSealReport, SealBox, SealStatus, sign_pdf, verify_pdf
from .pki import (
    CA_PASSPHRASE_ENV,
    TrustAnchor,
    ca_certificate,
    current_certificates,
    init_ca,
    issue_certificate,
    latest_certificate,
    publish_crl,
    revoke_certificate,
    trust_anchor,
)
from .records import (
    DeliberationData,
    Evidence,
    Member,
    ParsedRecord,
    build_record_xml,
    parse_record,
    record_uri,
)
from .render import MissingGlyphsError, render_html, render_pdf
from .report import Reason, RecordVerification, SignatureReport, Status
from .seal_image import SEAL_DIAMETER_MM, seal_data_uri, seal_svg
from .seals import (
    SEAL,
    SEAL_PASSPHRASE_ENV,
    UnitSeal,
    issue_seal_certificate,
    latest_crl_der,
    seal_certificate,
    seal_passphrase,
    unit_seal,
)
from .service import (
    create_record,
    get_record,
    members,
    records_for_case,
    sign_record,
    signature_documents,
    submit_signature,
    verify_record,
)
from .signer import ServerKeySigner, Signer, SigningRequest

build_record = create_record
"""Alias: build and store the canonical record (``build_record_xml`` only builds the bytes)."""

__all__ = [
    "CA_PASSPHRASE_ENV",
    "SEAL",
    "SEAL_DIAMETER_MM",
    "SEAL_FIELD",
    "SEAL_PASSPHRASE_ENV",
    "CaAlreadyInitializedError",
    "CaNotInitializedError",
    "CaPassphraseError",
    "DeliberationData",
    "DrawRecordData",
    "DrawSigner",
    "DrawnEntity",
    "Evidence",
    "Member",
    "MissingGlyphsError",
    "NoCertificateError",
    "NoSealCertificateError",
    "ParsedRecord",
    "PassphraseError",
    "PdfSealReport",
    "Reason",
    "RecordInvalidError",
    "RecordVerification",
    "SealBox",
    "SealPassphraseError",
    "SealStatus",
    "ServerKeySigner",
    "SignatureReport",
    "Signer",
    "SigningError",
    "SigningRequest",
    "Status",
    "TrustAnchor",
    "UnitSeal",
    "UnknownRecordError",
    "WeakPassphraseError",
    "build_draw_record_xml",
    "build_record",
    "build_record_xml",
    "ca_certificate",
    "create_draw_record",
    "create_record",
    "current_certificates",
    "get_record",
    "init_ca",
    "issue_certificate",
    "issue_seal_certificate",
    "latest_certificate",
    "latest_crl_der",
    "make_pki_cli",
    "members",
    "parse_record",
    "publish_crl",
    "record_uri",
    "records_for_case",
    "render_html",
    "render_pdf",
    "revoke_certificate",
    "seal_certificate",
    "seal_data_uri",
    "seal_passphrase",
    "seal_svg",
    "sign_pdf",
    "sign_record",
    "signature_documents",
    "submit_signature",
    "trust_anchor",
    "unit_seal",
    "verify_pdf",
    "verify_record",
]
