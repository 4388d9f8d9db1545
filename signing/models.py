"""Tables of the signing package, on a base of its own (signing imports no project package).

Alembic's env.py merges this metadata with the engine's. The schema itself is created only by
``migrations/versions/signing_0001_signing_tables.py``; keep the two in step.

What is stored, and why:

* ``signing_ca``: the agency root (certificate in the clear, private key in a PKCS#12
  that only the holder of ``WEIJIAN_CA_PASSPHRASE`` can open).
* ``signing_certificate``: every certificate the CA issued, with the user's PKCS#12 (encrypted
  with the user's own passphrase, never stored) and revocation facts; also the units' seal
  certificates (``kind='seal'``, encrypted under ``WEIJIAN_SEAL_PASSPHRASE``).
* ``signing_crl``: every CRL published, newest number wins; verification reads revocation from
  the CRL, so what the agency publishes is what it checks.
* ``signing_record`` / ``signing_record_member``: the canonical record bytes exactly as signed,
  and who must sign them.
* ``signing_signature``: each member's XAdES document, byte for byte as received.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps that come back aware on SQLite too (stored as UTC).

    A signature's validity is decided by comparing times; a naive datetime would silently be
    read as local time somewhere, so naive values are refused outright.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy reads it as a class attribute


class CertificateAuthority(Base):
    """The agency root CA. Exactly one row is ``active``; older roots stay for old signatures."""

    __tablename__ = "signing_ca"

    id: Mapped[int] = mapped_column(primary_key=True)
    common_name: Mapped[str] = mapped_column(String(200))
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    key_pkcs12: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IssuedCertificate(Base):
    """A signing certificate and its passphrase-protected PKCS#12.

    ``kind`` is ``person`` (a user's own key; ``user_id`` is the login, the passphrase the
    user's) or ``seal`` (a unit's electronic seal 电子印章; ``user_id`` is the unit id, the
    passphrase ``WEIJIAN_SEAL_PASSPHRASE``). Every lookup filters on the kind, so a login and a
    unit id can never stand for each other.
    """

    __tablename__ = "signing_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    ca_id: Mapped[int] = mapped_column(ForeignKey("signing_ca.id"), index=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="person", server_default="person")
    user_id: Mapped[str] = mapped_column(String(100), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    certificate_pem: Mapped[str] = mapped_column(Text)
    pkcs12: Mapped[bytes] = mapped_column(LargeBinary)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revocation_reason: Mapped[str | None] = mapped_column(String(40), default=None)


class RevocationList(Base):
    """A published CRL (DER, signed by the CA). The highest ``number`` per CA is current."""

    __tablename__ = "signing_crl"
    __table_args__ = (UniqueConstraint("ca_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ca_id: Mapped[int] = mapped_column(ForeignKey("signing_ca.id"))
    number: Mapped[int] = mapped_column(Integer)
    this_update: Mapped[datetime]
    next_update: Mapped[datetime]
    crl_der: Mapped[bytes] = mapped_column(LargeBinary)


class DeliberationRecord(Base):
    """One canonical deliberation record; ``record_xml`` is never updated after insert."""

    __tablename__ = "signing_record"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(100), index=True)
    case_number: Mapped[str] = mapped_column(String(100))
    record_xml: Mapped[bytes] = mapped_column(LargeBinary)
    record_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordMember(Base):
    """Who must sign a record (copied from the record XML so inboxes are a plain query)."""

    __tablename__ = "signing_record_member"
    __table_args__ = (UniqueConstraint("record_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("signing_record.id"))
    user_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)


class StoredSignature(Base):
    """One member's XAdES signature, stored byte for byte as it was accepted."""

    __tablename__ = "signing_signature"
    __table_args__ = (UniqueConstraint("record_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("signing_record.id"))
    user_id: Mapped[str] = mapped_column(String(100))
    certificate_serial: Mapped[str] = mapped_column(String(64))
    signature_xml: Mapped[bytes] = mapped_column(LargeBinary)
    signing_time: Mapped[datetime]
    received_at: Mapped[datetime]
