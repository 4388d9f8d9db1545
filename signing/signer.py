"""Who holds the key: the ``Signer`` interface and the server-side implementation.

Today the member types their passphrase on the signing page and the server opens their
PKCS#12 just long enough to sign (``ServerKeySigner``). Later a USB key (UKey) may sign on the
client: such a signer only has to produce the same detached XAdES document, which
``service.submit_signature`` verifies exactly like a server-made one. Anything that satisfies
``Signer`` can be passed to ``service.sign_record``.

The passphrase is used once, in ``__init__``, and not kept: not on the object, not in a log,
not in an exception message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from cryptography import x509
from sqlalchemy.orm import Session

from .pki import latest_certificate, unlock_pkcs12
from .xades import build_signature


@dataclass(frozen=True)
class SigningRequest:
    """What a signer is asked to sign: canonical record bytes, named as in the archive."""

    record_xml: bytes
    record_uri: str
    role: str
    signing_time: datetime
    kind: str = "deliberation"  # signing.kinds: which signature policy the signature names


@runtime_checkable
class Signer(Protocol):
    """Produces one member's detached XAdES-BES signature over a record."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate (issued by the agency root)."""
        ...

    def sign(self, request: SigningRequest) -> bytes:
        """Return the ``ds:Signature`` document (UTF-8 bytes) for ``request``."""
        ...


class ServerKeySigner:
    """Signs with a key unlocked from the user's PKCS#12 by the passphrase they typed.

    Raises ``PassphraseError`` at construction when the passphrase is wrong, so a page can
    say so before anything is signed.
    """

    def __init__(self, pkcs12_bytes: bytes, passphrase: str | bytes) -> None:
        self._key, self._certificate = unlock_pkcs12(pkcs12_bytes, passphrase)

    @classmethod
    def for_user(cls, session: Session, user_id: str, passphrase: str | bytes) -> ServerKeySigner:
        """Unlock ``user_id``'s newest key store (``NoCertificateError`` if none)."""
        return cls(latest_certificate(session, user_id).pkcs12, passphrase)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    def sign(self, request: SigningRequest) -> bytes:
        return build_signature(request.record_xml, request.record_uri, key=self._key,
                               certificate=self._certificate, role=request.role,
                               signing_time=request.signing_time, kind=request.kind)

    def __repr__(self) -> str:
        return f"<ServerKeySigner serial={self._certificate.serial_number:x}>"
