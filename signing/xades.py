"""XAdES-BES over a deliberation record, built and checked with signxml.

Each signature is a detached ``ds:Signature`` document whose first reference names the record
by its archive file name (``deliberation-<id>.xml``) and digests its canonical bytes; the other
two references cover the XAdES ``SignedProperties`` (SigningTime, SigningCertificateV2, the
agency signature policy, the member's role) and the ``KeyInfo`` with the certificate.
Detached, because signxml verifies only the first signature of a document: several members
must never share one tree, and a detached file per member is what the archive keeps.

signxml's classes are subclassed only to (a) take the signing time from the caller instead of
the wall clock, so server-side and future client-side signers agree on one time, and (b) parse
through ``signing.xmlsafe``'s hardened parser.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from signxml import SignatureReference, methods
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.util import SigningSettings, namespaces, xades_tag
from signxml.xades import (
    XAdESDataObjectFormat,
    XAdESSignatureConfiguration,
    XAdESSignaturePolicy,
    XAdESSigner,
    XAdESVerifier,
)

from .kinds import DELIBERATION, KINDS, RecordKind
from .xmlsafe import hardened_parser, parse_xml

POLICY_PATH = DELIBERATION.policy_path
POLICY_IDENTIFIER = DELIBERATION.policy_identifier
POLICY_DESCRIPTION = DELIBERATION.policy_description
C14N = CanonicalizationMethod.CANONICAL_XML_1_0
"""Inclusive C14N 1.0: the XMLDSig default for same-document references without transforms,
so xmlsec1 and other implementations compute the SignedProperties digest the same way."""
DIGEST = DigestAlgorithm.SHA256
SIGNATURE_METHOD = SignatureMethod.ECDSA_SHA256
ACCEPTED_SIGNATURE_METHODS = frozenset({
    SignatureMethod.ECDSA_SHA256, SignatureMethod.ECDSA_SHA384,
    SignatureMethod.RSA_SHA256, SignatureMethod.SHA256_RSA_MGF1,
})
"""What a future USB key may use too (RSA tokens are common); never SHA-1."""
ACCEPTED_DIGESTS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"


def _policy(kind: RecordKind) -> XAdESSignaturePolicy:
    digest = hashlib.sha256(kind.policy_path.read_bytes()).digest()
    return XAdESSignaturePolicy(Identifier=kind.policy_identifier, Description=kind.policy_description,
                                DigestMethod=DIGEST, DigestValue=base64.b64encode(digest).decode())


POLICIES = {name: _policy(kind) for name, kind in KINDS.items()}
"""Each record kind's signature policy, hashed from the shipped text: a draw signature can never
pass for a deliberation signature or the other way round."""
AGENCY_POLICY = POLICIES[DELIBERATION.name]
"""The signature-policy identifier every deliberation signature must carry."""
DATA_OBJECT_FORMATS = {name: XAdESDataObjectFormat(Description=kind.data_description, MimeType="application/xml")
                       for name, kind in KINDS.items()}
DATA_OBJECT_FORMAT = DATA_OBJECT_FORMATS[DELIBERATION.name]


def _own_parser(processor: object) -> etree.XMLParser:
    """One hardened parser per signer/verifier instance (lxml parsers are not thread-safe)."""
    parser = getattr(processor, "_hardened_parser", None)
    if parser is None:
        parser = hardened_parser()
        processor._hardened_parser = parser  # type: ignore[attr-defined]
    return cast(etree.XMLParser, parser)


class _AgencySigner(XAdESSigner):
    """XAdESSigner with a caller-given SigningTime and the hardened parser."""

    def __init__(self, signing_time: datetime, role: str, kind: str = DELIBERATION.name) -> None:
        super().__init__(signature_policy=POLICIES[kind], claimed_roles=[role],
                         data_object_format=DATA_OBJECT_FORMATS[kind], method=methods.detached,
                         signature_algorithm=SIGNATURE_METHOD, digest_algorithm=DIGEST, c14n_algorithm=C14N)
        self._signing_time = signing_time

    @property
    def parser(self) -> etree.XMLParser:
        return _own_parser(self)

    def add_signing_time(self, signed_signature_properties: etree._Element, sig_root: etree._Element,
                         signing_settings: SigningSettings) -> None:
        node = etree.SubElement(signed_signature_properties, xades_tag("SigningTime"), nsmap=self.namespaces)
        node.text = self._signing_time.isoformat(timespec="seconds")


class AgencyVerifier(XAdESVerifier):
    """XAdESVerifier that parses with the hardened parser (one per instance: not thread-safe)."""

    @property
    def parser(self) -> etree.XMLParser:
        return _own_parser(self)


def build_signature(record_xml: bytes, uri: str, *, key: ec.EllipticCurvePrivateKey,
                    certificate: x509.Certificate, role: str, signing_time: datetime,
                    kind: str = DELIBERATION.name) -> bytes:
    """Sign canonical record bytes; return the detached XAdES-BES ``ds:Signature`` document.

    The record digest is taken over the C14N of the parsed record, which equals the stored
    bytes because records are stored canonical (``records.load_record`` insists on it).
    """
    record_root = parse_xml(record_xml)
    signer = _AgencySigner(signing_time=signing_time, role=role, kind=kind)
    signature = signer.sign(record_root, key=key, cert=[certificate],
                            reference_uri=[SignatureReference(URI=uri)], always_add_key_value=False)
    return cast(bytes, etree.tostring(signature, encoding="UTF-8", xml_declaration=True))


def verify_config(verification_time: datetime) -> XAdESSignatureConfiguration:
    return XAdESSignatureConfiguration(
        location="./", expect_references=3, signature_methods=ACCEPTED_SIGNATURE_METHODS,
        digest_algorithms=ACCEPTED_DIGESTS, verification_time=verification_time,
        default_reference_c14n_method=C14N,
    )


def xades_find(element: etree._Element, path: str) -> etree._Element | None:
    """``find`` with the ds/xades prefixes signxml uses."""
    return element.find(path, namespaces=cast(Any, namespaces))


def xades_findall(element: etree._Element, path: str) -> list[etree._Element]:
    return element.findall(path, namespaces=cast(Any, namespaces))
