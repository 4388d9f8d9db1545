"""Upload storage: size and type checked while streaming, stored once under the content's SHA-256.

The type is decided by the file's first bytes (its signature) and must agree with the file
name's extension and the field's accepted types; the client's declared content type is
ignored. Files live at ``<root>/<aa>/<bb>/<sha256>``; the original name is metadata only and
never part of a path. Writing the same content twice is a no-op.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .names import safe_filename
from .registry import FileInfo

CHUNK = 64 * 1024
ZIP_MAGIC = b"PK\x03\x04"
# kind -> (content type, extensions, signatures at offset 0)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", ("pdf",), (b"%PDF-",)),
    "jpg": ("image/jpeg", ("jpg", "jpeg"), (b"\xff\xd8\xff",)),
    "png": ("image/png", ("png",), (b"\x89PNG\r\n\x1a\n",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",), (ZIP_MAGIC,)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",), (ZIP_MAGIC,)),
    "mp4": ("video/mp4", ("mp4",), ()),
    "mp3": ("audio/mpeg", ("mp3",), (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
}
LABELS = {"pdf": "PDF", "jpg": "JPEG 图片", "png": "PNG 图片", "docx": "Word 文档", "xlsx": "Excel 表格",
          "mp4": "MP4 视频", "mp3": "MP3 音频"}


class UploadRejected(ValueError):
    """The upload was refused (too large, wrong type, empty); the message is for the user."""


def sniff(head: bytes, filename: str | None = None) -> str | None:
    """The kind of a file from its first bytes (and, for ZIP-based formats, its extension)."""
    ext = Path(filename or "").suffix.lower().lstrip(".")
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mp4"
    for kind, (_ctype, exts, signatures) in KINDS.items():
        if any(head.startswith(sig) for sig in signatures):
            if signatures == (ZIP_MAGIC,) and ext not in exts:
                continue
            return kind
    return None


@dataclass(frozen=True)
class StoredUpload:
    sha256: str
    size: int
    kind: str
    content_type: str
    filename: str


class UploadStore:
    """Content-addressed files under ``root`` (``instance/uploads`` by default)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        try:
            return self.path(sha256).is_file()
        except ValueError:
            return False

    def info(self, sha256: str) -> FileInfo | None:
        """Size and sniffed type of a stored file, from the bytes on disk."""
        if not self.exists(sha256):
            return None
        path = self.path(sha256)
        with path.open("rb") as fh:
            head = fh.read(64)
        kind = sniff(head) or _zip_kind(path)
        if kind is None:
            return None
        return FileInfo(size=path.stat().st_size, content_type=KINDS[kind][0], kind=kind)

    def save(self, stream: IO[bytes], filename: str, accept: Iterable[str], max_bytes: int) -> StoredUpload:
        """Stream ``stream`` to disk, refusing it as soon as it passes ``max_bytes``."""
        accepted = tuple(accept)
        ext = Path(filename or "").suffix.lower().lstrip(".")
        allowed_exts = {e for kind in accepted if kind in KINDS for e in KINDS[kind][1]}
        if ext not in allowed_exts:
            raise UploadRejected(f"文件类型不允许，只接受：{'、'.join(LABELS.get(k, k) for k in accepted)}")
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadRejected(f"文件超过大小限制（{_mb(max_bytes)}）")
                    if len(head) < 64:
                        head += chunk[: 64 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise UploadRejected("文件是空的")
            kind = sniff(head, filename)
            if kind is None or kind not in accepted or ext not in KINDS[kind][1]:
                raise UploadRejected("文件内容与扩展名不符，或类型不允许，只接受："
                                     + "、".join(LABELS.get(k, k) for k in accepted))
            sha = digest.hexdigest()
            target = self.path(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                tmp.unlink()
            else:
                tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StoredUpload(sha, size, kind, KINDS[kind][0], safe_filename(filename))


def _zip_kind(path: Path) -> str | None:
    """A stored ZIP-based file has no extension on disk: tell DOCX from XLSX by its members."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return None
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return None


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"
