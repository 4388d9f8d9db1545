"""Every widget's validation, the registry, the describe() view of a schema, and the upload store."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from marshmallow import Schema, fields, validate

from forms import FileInfo, FormSchema, UploadRejected, UploadStore, describe, get_form, validate_submission
from forms.fields import (
    DateField,
    DateTimeField,
    EntityPicker,
    FileUpload,
    Money,
    MultiSelect,
    Number,
    Select,
    StaffPicker,
    Text,
    TextArea,
)
from forms.registry import register_form
from forms.uploads import safe_filename, sniff

PDF = b"%PDF-1.7\n" + b"0" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100
SHA = "a" * 64


class Refs:
    """A fixed world: one visible entity, two staff, stored files by hash."""

    def __init__(self, files: dict[str, FileInfo] | None = None) -> None:
        self.files = files or {}

    def entity_visible(self, credit_code: str) -> bool:
        return credit_code == "91350100M000100Y43"

    def staff_visible(self, user_id: str, role: str | None) -> bool:
        return user_id in {"officer.a", "officer.b"} and role in (None, "officer")

    def file_info(self, sha256: str) -> FileInfo | None:
        return self.files.get(sha256)

    def max_upload_bytes(self) -> int:
        return 1000


class AllWidgets(FormSchema):
    name = Text("名称", required=True, max_length=10)
    notes = TextArea("备注", max_length=20)
    count = Number("数量", minimum=0, maximum=10)
    ratio = Number("比例", integer=False, minimum=0, maximum=1)
    amount = Money("金额", maximum=5000)
    day = DateField("日期", not_future=True)
    moment = DateTimeField("时间")
    source = Select("来源", [("a", "甲"), ("b", "乙")])
    approved = Select("同意", [(True, "同意"), (False, "不同意")])
    kinds = MultiSelect("类型", [("x", "X"), ("y", "Y"), ("z", "Z")], min_items=1, max_items=2)
    entity = EntityPicker("单位")
    officer = StaffPicker("承办人", role="officer")
    officers = StaffPicker("承办人们", role="officer", many=True, min_items=2)
    evidence = FileUpload("证据", accept=("pdf",), max_bytes=500)


def check(raw: dict[str, Any], refs: Refs | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    return validate_submission(AllWidgets, {"name": "甲", **raw}, refs or Refs())


def error_of(raw: dict[str, Any], field: str, refs: Refs | None = None) -> str:
    data, errors = check(raw, refs)
    assert not data and field in errors, errors
    return " ".join(errors[field])


def test_valid_submission_gives_json_values() -> None:
    pdf = FileInfo(size=120, content_type="application/pdf", kind="pdf")
    data, errors = check({
        "name": "  康宁诊所 ", "notes": "第一行\r\n第二行", "count": "3", "ratio": "0.25", "amount": "1,234.5",
        "day": "2025-10-09", "moment": "2025-10-09T09:30", "source": "b", "approved": "false",
        "kinds": ["z", "x"], "entity": "91350100m000100y43", "officer": "officer.a",
        "officers": ["officer.a", "officer.b", "officer.a"], "evidence": {"sha256": SHA, "filename": "照片.pdf"},
    }, Refs({SHA: pdf}))
    assert errors == {}
    assert data == {
        "name": "康宁诊所", "notes": "第一行\n第二行", "count": 3, "ratio": 0.25, "amount": 1234.5,
        "day": "2025-10-09", "moment": "2025-10-09T09:30+08:00", "source": "b", "approved": False,
        "kinds": ["x", "z"], "entity": "91350100M000100Y43", "officer": "officer.a",
        "officers": ["officer.a", "officer.b"],
        "evidence": {"sha256": SHA, "filename": "照片.pdf", "size": 120, "content_type": "application/pdf"},
    }


def test_api_json_types_are_accepted_as_well() -> None:
    data, errors = check({"count": 3, "amount": 20000 / 4, "approved": True, "kinds": ["y"], "ratio": 1})
    assert errors == {} and data["approved"] is True and data["amount"] == 5000.0 and data["count"] == 3


def test_blank_optional_fields_are_dropped_and_required_ones_named() -> None:
    data, errors = validate_submission(AllWidgets, {"name": "   ", "notes": "", "kinds": []}, Refs())
    assert errors == {"name": ["此项为必填项"]}
    data, errors = validate_submission(AllWidgets, {"name": "x", "notes": "", "kinds": [""]}, Refs())
    assert errors == {} and data == {"name": "x"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "一二三四五六七八九十一", "不能超过10个字"),
    ("name", "a\x00b", "控制字符"),
    ("name", 42, "应为文字"),
    ("notes", "x" * 21, "不能超过20个字"),
    ("count", "3.5", "整数"),
    ("count", "-1", "不能小于0"),
    ("count", "11", "不能大于10"),
    ("count", "三", "应为数字"),
    ("count", "NaN", "应为数字"),
    ("ratio", "1.5", "不能大于1"),
    ("amount", "12.345", "两位小数"),
    ("amount", "-0.01", "不能小于0"),
    ("amount", "5000.01", "不能大于5000"),
    ("amount", "Infinity", "应为数字"),
    ("amount", True, "应为数字"),
    ("day", "2025/10/09", "年-月-日"),
    ("day", "2025-02-30", "年-月-日"),
    ("day", (date.today() + timedelta(days=2)).isoformat(), "不能晚于今天"),
    ("moment", "明天上午", "时间格式"),
    ("source", "c", "请从列表中选择"),
    ("approved", "maybe", "请从列表中选择"),
    ("kinds", ["x", "y", "z"], "最多选择2项"),
    ("kinds", ["w"], "请从列表中选择"),
    ("kinds", "x,y", "请从列表中选择"),
    ("entity", "91350100M000100Y4", "18位"),
    ("entity", "91350100M000100Y44", "不在您的管辖范围内"),
    ("officer", "reviewer.a", "未找到人员"),
    ("officer", ["officer.a", "officer.b"], "一名"),
    ("officers", ["officer.a"], "至少选择2人"),
    ("officers", ["officer.a", "<script>"], "请选择人员"),
    ("evidence", {"sha256": "not-a-hash"}, "SHA-256"),
    ("evidence", {"sha256": SHA}, "重新上传"),
])
def test_each_widget_refuses_bad_input(field: str, value: Any, message: str) -> None:
    assert message in error_of({field: value}, field)


@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd", "passwd"), ("证据\r\nX-Injected: 1.pdf", "证据X-Injected: 1.pdf"),
    ("C:\\照片\\现场.pdf", "现场.pdf"), ("\t", SHA[:12])])
def test_a_file_name_is_display_text_only(sent: str, kept: str) -> None:
    """A client's file name loses its path and control characters (it once broke a download
    header and a deliberation record's schema); it is not a reason to refuse the file."""
    pdf = Refs({SHA: FileInfo(size=100, content_type="application/pdf", kind="pdf")})
    data, errors = validate_submission(AllWidgets, {"name": "x", "evidence": {"sha256": SHA, "filename": sent}}, pdf)
    assert "evidence" not in errors and data.get("evidence", {}).get("filename") == kept


def test_file_type_and_size_are_checked_on_the_stored_bytes() -> None:
    png = Refs({SHA: FileInfo(size=100, content_type="image/png", kind="png")})
    assert "类型不允许" in error_of({"evidence": SHA}, "evidence", png)
    big = Refs({SHA: FileInfo(size=501, content_type="application/pdf", kind="pdf")})
    assert "大小限制" in error_of({"evidence": SHA}, "evidence", big)


def test_unknown_fields_are_refused() -> None:
    assert error_of({"is_admin": True}, "is_admin") == "不允许的字段"
    _data, errors = validate_submission(AllWidgets, ["not", "an", "object"], Refs())  # type: ignore[arg-type]
    assert errors == {"_schema": ["提交的数据应为对象"]}


def test_registry_and_lead_forms() -> None:
    import forms.lead  # noqa: F401  (registers lead.register, lead.approve)

    register = get_form("lead.register")
    assert register is not None and register.title == "登记案源"
    widgets = {spec.widget for spec in describe(register.schema)}
    assert widgets >= {"text", "textarea", "number", "money", "date", "datetime", "select", "multiselect",
                       "entity", "file"}
    approve = get_form("lead.approve")
    assert approve is not None and {s.widget for s in describe(approve.schema)} >= {"select", "textarea", "staff"}
    data, errors = validate_submission(approve, {"approved": "true", "opinion": "同意"}, Refs())
    assert errors == {"officers": ["同意立案时须指定至少两名承办人"]}
    data, errors = validate_submission(approve, {"approved": "false", "opinion": "证据不足"}, Refs())
    assert errors == {} and data == {"approved": False, "opinion": "证据不足"}
    with pytest.raises(ValueError, match="already registered"):
        register_form("lead.register")(AllWidgets)


def test_describe_reads_plain_marshmallow_schemas_too() -> None:
    class Plain(Schema):
        title = fields.String(required=True, metadata={"label": "标题"})
        urgent = fields.Boolean(metadata={"label": "紧急"})
        kind = fields.String(validate=validate.OneOf(["a", "b"], labels=["甲", "乙"]))
        tags = fields.List(fields.String(validate=validate.OneOf(["x", "y"])), metadata={"widget": "checkboxes"})
        members = fields.List(fields.Dict())
        day = fields.Date()
        count = fields.Integer()

    specs = {s.name: s for s in describe(Plain)}
    assert specs["title"].label == "标题" and specs["title"].required and specs["title"].widget == "text"
    assert specs["urgent"].widget == "checkbox"
    assert specs["kind"].widget == "select" and specs["kind"].choices == [("a", "甲"), ("b", "乙")]
    assert specs["tags"].widget == "multiselect" and specs["tags"].multiple
    assert specs["members"].widget == "json" and specs["day"].widget == "date"
    assert specs["count"].widget == "number" and specs["count"].attrs["integer"] is True


# -- the upload store -----------------------------------------------------------------------

def test_store_saves_by_hash_once(tmp_path: Path) -> None:
    store = UploadStore(tmp_path)
    first = store.save(io.BytesIO(PDF), "现场照片.PDF", ["pdf"], 10_000)
    again = store.save(io.BytesIO(PDF), "another name.pdf", ["pdf"], 10_000)
    assert first.sha256 == again.sha256 and first.kind == "pdf" and first.size == len(PDF)
    assert store.path(first.sha256).read_bytes() == PDF
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first.sha256]
    info = store.info(first.sha256)
    assert info == FileInfo(size=len(PDF), content_type="application/pdf", kind="pdf")
    assert store.info("f" * 64) is None and not store.exists("../../etc/passwd")


@pytest.mark.parametrize(("content", "name", "message"), [
    (PDF, "evidence.exe", "类型不允许"),
    (PNG, "evidence.pdf", "内容与扩展名不符"),       # a PNG dressed as a PDF
    (b"MZ\x90\x00" + b"0" * 50, "evidence.pdf", "内容与扩展名不符"),
    (b"", "evidence.pdf", "空的"),
    (PDF + b"0" * 2000, "evidence.pdf", "大小限制"),
])
def test_store_refuses_wrong_files_and_leaves_nothing(tmp_path: Path, content: bytes, name: str, message: str) -> None:
    store = UploadStore(tmp_path)
    with pytest.raises(UploadRejected, match=message):
        store.save(io.BytesIO(content), name, ["pdf", "jpg"], 1000)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_sniffing_and_filenames(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    docx = buffer.getvalue()
    assert sniff(docx, "笔录.docx") == "docx" and sniff(docx, "笔录.zip") is None
    store = UploadStore(tmp_path)
    saved = store.save(io.BytesIO(docx), "笔录.docx", ["docx"], 10_000)
    assert store.info(saved.sha256).kind == "docx"  # type: ignore[union-attr]
    assert sniff(b"\x00\x00\x00\x18ftypmp42" + b"0" * 10) == "mp4"
    assert safe_filename("C:\\Users\\x\\..\\现场.jpg") == "现场.jpg" and safe_filename("a\x00b\nc.pdf") == "abc.pdf"


def test_values_are_formatted_for_people() -> None:
    from forms import format_value

    specs = {s.name: s for s in describe(AllWidgets)}
    assert format_value(specs["amount"], 20000.0) == "20,000.00 元"
    assert format_value(specs["source"], "b") == "乙" and format_value(specs["approved"], False) == "不同意"
    assert format_value(specs["kinds"], ["x", "z"]) == "X、Z"
    assert format_value(specs["evidence"], {"sha256": SHA, "filename": "a.pdf"}) == f"a.pdf（SHA-256 {SHA}）"
    assert format_value(None, True) == "是" and format_value(None, None) == ""
