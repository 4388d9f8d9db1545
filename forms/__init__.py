"""Task forms: one marshmallow schema per user-task form key, the widgets, uploads and the renderer.

Public surface: ``register_form`` / ``get_form`` / ``registered_forms``, the field classes in
``forms.fields``, ``validate_submission`` (HTML posts and API JSON alike), ``describe`` (what the
Jinja macros in ``forms/templates/forms/macros.html`` draw) and ``UploadStore``.
"""

from pathlib import Path

from .registry import (
    FieldSpec,
    FileInfo,
    FormSchema,
    References,
    RegisteredForm,
    describe,
    format_value,
    get_form,
    register_form,
    registered_forms,
    validate_submission,
)
from .uploads import StoredUpload, UploadRejected, UploadStore

TEMPLATE_DIR = Path(__file__).parent / "templates"

__all__ = [
    "TEMPLATE_DIR", "FieldSpec", "FileInfo", "FormSchema", "References", "RegisteredForm", "StoredUpload",
    "UploadRejected", "UploadStore", "describe", "format_value", "get_form", "register_form", "registered_forms",
    "validate_submission",
]
