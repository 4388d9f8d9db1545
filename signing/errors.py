"""Exceptions for operational errors (no CA, wrong passphrase, unknown record).

A signature that fails verification is *not* an exception: it is a ``SignatureReport`` with
status INVALID and a reason, so hostile input can never crash a page that shows signatures.
"""

from __future__ import annotations


class SigningError(Exception):
    """Base class of everything the signing package raises on purpose."""


class CaNotInitializedError(SigningError):
    """``pki init`` has not been run (or the active CA row is missing)."""


class CaAlreadyInitializedError(SigningError):
    """``pki init`` refuses to replace a root: every signature made so far depends on it."""


class CaPassphraseError(SigningError):
    """The CA key could not be opened with the given passphrase."""


class PassphraseError(SigningError):
    """The user's PKCS#12 could not be opened: wrong passphrase (or damaged file)."""


class WeakPassphraseError(SigningError):
    """A new passphrase is too short to protect a signing key."""


class NoCertificateError(SigningError):
    """The user has no current (unrevoked, unexpired) signing certificate."""


class UnknownRecordError(SigningError):
    """No deliberation record with that id."""


class RecordInvalidError(SigningError):
    """Record data or stored record bytes are not a valid canonical deliberation record."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class NoSealCertificateError(NoCertificateError):
    """The unit has no current seal certificate (``weijian pki seal UNIT`` issues one)."""


class SealPassphraseError(SigningError):
    """``WEIJIAN_SEAL_PASSPHRASE`` is unset, or does not open the unit's seal key."""
