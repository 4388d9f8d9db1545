"""bench.complaints: the 100,000 stored complaints, generated deterministically and filled with
PostgreSQL COPY (how they are spread: ``bench.complaints``' docstring)."""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.complaints_http import CITY, ENTITIES, FILL_VERSION, PG_DB, PROVINCE

# -- part 2: the portal under 20 clients on PostgreSQL with 100,000 complaints -------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
PLACES = ("渭滨区", "金台区", "陈仓区", "凤翔区", "岐山县", "扶风县", "眉县", "陇县", "千阳县", "麟游县",
          "雁塔区", "碑林区", "莲湖区", "新城区", "未央区", "灞桥区", "长安区", "临潼区", "高陵区", "鄠邑区")
TRADES = ("诊所", "口腔门诊部", "医院", "卫生院", "美容店", "游泳馆", "宾馆", "洗浴中心", "理发店", "中学",
          "幼儿园", "自来水公司", "二次供水泵房", "放射科", "职业病诊断机构", "足浴店", "酒店", "网吧")
WORDS = ("康宁", "仁和", "华康", "金水湾", "悦来", "明珠", "博爱", "济世", "安康", "阳光", "温馨", "丽都", "新世纪",
         "长青", "益民", "百姓", "天使", "爱尔", "同仁", "东方")
FREE_TARGETS = tuple(f"{p}{w}{t}" for p in PLACES[:6] for w in WORDS[:8] for t in TRADES[:6])
FACT_PARTS = ("无证行医", "使用过期药品", "医疗废物随意丢弃", "消毒不规范，毛巾重复使用", "游泳池水质浑浊",
              "从业人员无健康证明", "非卫生技术人员从事诊疗活动", "超范围执业", "未按规定公示卫生许可证",
              "饮用水有异味", "放射防护设施缺失", "医美项目夸大宣传", "收费不透明", "病历书写不规范",
              "一次性器械重复使用", "空气质量差、通风不良", "检查报告迟迟不给", "拒不出具处方", "护士没有执业证书",
              "注射后出现红肿", "门诊无人值守", "消毒记录造假", "给未成年人做纹身", "牙科器械未经灭菌",
              "宿舍楼二次供水水箱未清洗", "泳池无救生员", "客房床单不更换", "化妆品来源不明", "职业病体检走过场",
              "B超室无防护", "输液室拥挤不消毒", "过期疫苗", "假冒医生坐诊", "私自开展人工流产")
FACT_OPENINGS = ("本人于近日发现，", "我在该处就诊时看到，", "多名居民反映，", "家属就诊期间发现，", "近一个月以来，",
                 "我是附近的住户，", "我的孩子在此", "朋友告诉我，", "")
FACT_DETAILS = ("{m}月{d}日下午{h}点左右", "当天收费{n}元却没有发票", "一名约{a}岁的{who}", "{n}号诊室",
                "二楼{n}室", "前后去了{k}次", "电话{p}多次无人接听", "排队等了{k}个小时", "{who}态度恶劣",
                "用的是{n}年的旧设备", "共有{k}名顾客反映", "门口贴着{who}的照片")
WHO = ("男子", "女工作人员", "自称主任的人", "实习生", "老板娘", "保安", "收费员", "护士", "医生")
FACT_CLOSINGS = ("请卫生监督部门依法查处。", "希望尽快核实处理并答复。", "已影响周边群众健康。", "")


def facts_text(rng: random.Random) -> str:
    """A citizen's account: one to three matters and some particulars (similar ones share matters)."""
    matters = "，".join(rng.sample(FACT_PARTS, rng.randint(1, 3)))
    details = "，".join(rng.choice(FACT_DETAILS).format(
        m=rng.randint(1, 12), d=rng.randint(1, 28), h=rng.randint(1, 11), n=rng.randint(2, 980), a=rng.randint(20, 60),
        k=rng.randint(2, 9), p=f"0917-{rng.randrange(10**7):07d}", who=rng.choice(WHO))
        for _ in range(rng.randint(1, 5)))
    return f"{rng.choice(FACT_OPENINGS)}{matters}。{details}。{rng.choice(FACT_CLOSINGS)}"


@dataclass
class Directory:
    units: list[str]  # county units first
    unit_weights: list[float]
    entities: list[tuple[str, str, str]]  # credit code, name, unit
    entity_weights: list[float]

    unit_cum: list[float] = field(default_factory=list)
    entity_cum: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.unit_cum = list(itertools.accumulate(self.unit_weights))
        self.entity_cum = list(itertools.accumulate(self.entity_weights))


def directory(seed: int = 3) -> Directory:
    from processes.directory.codes import make_credit_code

    rng = random.Random(seed)
    cities = [f"61{c:02d}00" for c in range(1, 11)]
    counties = [f"61{c:02d}{d:02d}" for c in range(1, 11) for d in range(2, 12)]
    # a few counties get most complaints (Zipf over a shuffled order), cities 17 %, the province 3 %
    shuffled = counties[:]
    rng.shuffle(shuffled)
    county_w = [0.80 / (i + 1) ** 0.8 for i in range(len(shuffled))]
    scale = 0.80 / sum(county_w)
    weights = [w * scale for w in county_w] + [0.17 / len(cities)] * len(cities) + [0.03]
    entities = []
    for n in range(ENTITIES):
        unit = rng.choice(counties)
        code = make_credit_code(unit, f"MA{n:07d}", "92")
        name = f"{rng.choice(PLACES)}{rng.choice(WORDS)}{rng.choice(TRADES)}{n % 97 or ''}"
        entities.append((code, name, unit))
    entity_w = [1 / (i + 1) ** 0.7 for i in range(ENTITIES)]  # the busiest about 1,000 in three years
    return Directory(shuffled + cities + [PROVINCE], weights, entities, entity_w)


KIND_MIX = (("report", 0.45), ("complaint", 0.35), ("petition", 0.12), ("out_of_scope", 0.05), (None, 0.03))
CHANNEL_MIX = (("portal", 0.35), ("hotline_12345", 0.30), ("hotline_12320", 0.15), ("phone", 0.08),
               ("letter", 0.04), ("visit", 0.04), ("assigned", 0.02), ("transferred", 0.02))
OLD_STATUS = (("closed", 0.82), ("refused", 0.06), ("transferred", 0.03), ("told", 0.02), ("merged", 0.02),
              ("out_of_scope", 0.03), ("replied", 0.02))
RECENT_STATUS = (("registered", 0.10), ("forwarded", 0.05), ("accepted", 0.40), ("paused", 0.03),
                 ("reviewing", 0.07), ("replied", 0.20), ("closed", 0.10), ("refused", 0.05))
COMPLAINT_COLUMNS = (
    "id", "tracking_no", "code_salt", "code_hash", "channel", "kind", "petition_kind", "status",
    "registered_unit_id", "unit_id", "instance_id", "instance_ids", "entity_id", "target_name", "target_key",
    "facts", "request", "attachments", "anonymous", "identity_token", "reply_channel", "clerk_id", "handlers",
    "received_on", "accept_due", "accepted_on", "handling_due", "paused_workdays", "finished_on", "replied_on",
    "on_time", "outcome", "reply_text", "duplicate_of", "review_level", "rules", "created_at", "updated_at")
EVENT_COLUMNS = ("complaint_id", "at", "kind", "public", "public_text", "actor", "data")


def _pick(rng: random.Random, mix: Sequence[tuple[Any, float]]) -> Any:
    roll, acc = rng.random(), 0.0
    for value, share in mix:
        acc += share
        if roll < acc:
            return value
    return mix[-1][0]


@dataclass
class Tracked:
    tracking_no: str
    code: str


def complaint_rows(count: int, today: date, sample_every: int, seed: int = 5
                   ) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]], Tracked | None]]:
    """(complaint row, its timeline rows, its number and code when kept for tracking)."""
    from processes.complaints.identity import encrypt_identity
    from processes.complaints.intake import CODE_ALPHABET, CODE_LENGTH, code_hash, normalise_target
    from processes.complaints.records import KINDS, PUBLIC_TEXT
    from processes.complaints.rules import load_rules

    rng = random.Random(seed)
    place = directory()
    rules = json.dumps(load_rules().as_raw(), ensure_ascii=False)
    tokens = [encrypt_identity({"name": f"{rng.choice(SURNAMES)}{rng.choice(WORDS)}", "phone": f"138{n:08d}"})
              for n in range(64)]
    unit_draw = rng.choices(range(len(place.units)), place.unit_weights, k=count)
    entity_draw = rng.choices(range(ENTITIES), place.entity_weights, k=count)
    day_weights = []
    span = 3 * 365
    for back in range(span):
        day = today - timedelta(days=back)
        day_weights.append((1.0 - back / (span * 1.6)) * (0.4 if day.weekday() >= 5 else 1.0))
    back_draw = rng.choices(range(span), day_weights, k=count)
    used: set[str] = set()
    empty = json.dumps([])
    for i in range(count):
        received = today - timedelta(days=back_draw[i])
        while True:
            number = f"TS{received:%Y%m%d}{rng.randrange(10**6):06d}"
            if number not in used:
                used.add(number)
                break
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        salt = f"{rng.getrandbits(64):016x}"
        kind = _pick(rng, KIND_MIX) if back_draw[i] > 2 else None
        old = back_draw[i] > 90
        status = _pick(rng, OLD_STATUS if old else RECENT_STATUS) if kind else "registered"
        if kind == "out_of_scope":
            status = "out_of_scope"
        unit = place.units[unit_draw[i]]
        if rng.random() < 0.7:
            credit, target, unit_of_entity = place.entities[entity_draw[i]]
            entity_id: str | None = credit
            unit = unit_of_entity if rng.random() < 0.8 else unit
        else:
            entity_id, target = None, rng.choice(FREE_TARGETS)
        anonymous = rng.random() < 0.33
        complaint_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        created = datetime(received.year, received.month, received.day, rng.randrange(0, 10), rng.randrange(60),
                           tzinfo=UTC)
        accepted = status not in ("registered", "forwarded", "refused", "transferred", "told", "out_of_scope",
                                  "merged")
        accepted_on = received + timedelta(days=rng.randint(1, 6)) if accepted else None
        handling_due = accepted_on + timedelta(days=rng.choice((21, 21, 21, 60, 63))) if accepted_on else None
        finished = status in ("replied", "closed")
        finished_on = (accepted_on or received) + timedelta(days=rng.randint(5, 40)) if finished else None
        reply = "经核查，已依法处理。您如对答复不服，可以自收到答复之日起30日内申请复查。" if finished else None
        review_level = 0 if not finished or rng.random() > 0.013 else (2 if rng.random() < 0.25 else 1)
        row = (complaint_id, number, salt, code_hash(salt, code), _pick(rng, CHANNEL_MIX), kind,
               "claim" if kind == "petition" else None, status, unit, unit, str(uuid.uuid4()), empty, entity_id,
               target, normalise_target(target), facts_text(rng), rng.choice(("请依法查处", "", "请尽快答复")), empty,
               anonymous, None if anonymous else rng.choice(tokens),
               None if anonymous else rng.choice(("sms", "sms", "email", "post")),
               None, json.dumps(["officer.a"] if accepted else []), received,
               received + timedelta(days=9), accepted_on, handling_due, 0, finished_on, finished_on,
               (finished_on <= handling_due) if finished_on and handling_due else None,
               "explained" if finished else None, reply, empty, review_level, rules, created,
               created + timedelta(days=(finished_on - received).days if finished_on else 1))
        what = KINDS.get(kind or "", "投诉举报")
        events = [(complaint_id, created, "registered", True,
                   PUBLIC_TEXT["registered"].format(what=what, tracking_no=number), "system", empty)]
        events.append((complaint_id, created + timedelta(hours=2), "classified", False, "", "clerk.x", empty))
        if accepted_on:
            at = datetime(accepted_on.year, accepted_on.month, accepted_on.day, 3, tzinfo=UTC)
            events.append((complaint_id, at, "accepted", True, PUBLIC_TEXT["accepted"], "clerk.x", empty))
        elif status in ("refused", "transferred", "told", "out_of_scope", "merged"):
            events.append((complaint_id, created + timedelta(days=3), status, True, "不予受理或者转由有权部门处理。",
                           "clerk.x", empty))
        if finished_on:
            at = datetime(finished_on.year, finished_on.month, finished_on.day, 6, tzinfo=UTC)
            events.append((complaint_id, at - timedelta(days=2), "reviewed", False, "", "head.x", empty))
            events.append((complaint_id, at, "replied", True, PUBLIC_TEXT["replied"], "system", empty))
            if status == "closed":
                events.append((complaint_id, at + timedelta(days=31), "archived", True, PUBLIC_TEXT["archived"],
                               "system", empty))
        yield row, events, Tracked(number, code) if i % sample_every == 0 else None


def _pg_url(base: str, database: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def prepare_postgres(admin_url: str, count: int, reuse: bool, keys: str) -> tuple[str, list[Tracked], float, bool]:
    """The filled database: (its URL, numbers and codes to track, seconds to fill, reused)."""
    from engine.dbconnect import make_engine

    url = _pg_url(admin_url, PG_DB)
    sample_every = max(1, count // 5000)
    today = datetime.now(UTC).date()
    if reuse:
        try:
            from migrations.runner import upgrade

            upgrade(url)  # a kept database gets the newest schema (new indexes) too
            engine = make_engine(url)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM complaint WHERE clerk_id IS NULL")).scalar()
                marker = conn.execute(text("SELECT value FROM bench_marker")).scalar()
            engine.dispose()
            if stored is not None and stored >= count and marker == f"{FILL_VERSION}:{count}:{today}":
                tracked = [t for _row, _events, t in complaint_rows(count, today, sample_every) if t is not None]
                return url, tracked, 0.0, True
        except Exception as exc:  # not there, or not ours: fill it again
            print(f"filling {PG_DB} again ({type(exc).__name__})", file=sys.stderr)
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()
    started = time.perf_counter()
    os.environ["WEIJIAN_COMPLAINT_KEYS"] = keys
    tracked = fill(url, count, today, sample_every)
    return url, tracked, time.perf_counter() - started, False


def fill(url: str, count: int, today: date, sample_every: int) -> list[Tracked]:
    from engine.actor import SYSTEM
    from engine.dbconnect import make_engine
    from migrations.runner import upgrade
    from processes.directory.services import create_unit
    from processes.registry import deploy_packages

    upgrade(url)
    engine = make_engine(url)
    place = directory()
    with Session(engine) as session:
        deploy_packages(session, SYSTEM)
        create_unit(session, PROVINCE, "陕西省卫生健康委员会卫生监督所", "province", PROVINCE, None, "陕")
        session.flush()
        for c in range(1, 11):
            create_unit(session, f"61{c:02d}00", f"第{c}市卫生监督所", "city", f"61{c:02d}00", PROVINCE, f"市{c}")
        session.flush()
        for c in range(1, 11):
            for d in range(2, 12):
                create_unit(session, f"61{c:02d}{d:02d}", f"第{c}市第{d}区县卫生监督所", "county",
                            f"61{c:02d}{d:02d}", f"61{c:02d}00", f"县{c}{d}")
        session.commit()
    tracked: list[Tracked] = []
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        with driver.cursor() as cur:
            now = datetime.now(UTC)
            with cur.copy("COPY dir_entity (credit_code, name, category, region_code, unit_id, licence_numbers, "
                          "created_at) FROM STDIN") as copy:
                for code, name, unit in place.entities:
                    copy.write_row((code, name, "medical", unit, unit, "[]", now))
            events: list[tuple[Any, ...]] = []
            with cur.copy(f"COPY complaint ({', '.join(COMPLAINT_COLUMNS)}) FROM STDIN") as copy:
                for row, timeline, keep in complaint_rows(count, today, sample_every):
                    copy.write_row(row)
                    events.extend(timeline)
                    if keep is not None:
                        tracked.append(keep)
            with cur.copy(f"COPY complaint_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for event in events:
                    copy.write_row(event)
            cur.execute("CREATE TABLE bench_marker (value text)")
            cur.execute("INSERT INTO bench_marker VALUES (%s)", (f"{FILL_VERSION}:{count}:{today}",))
        driver.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("complaint", "complaint_event", "dir_entity"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    engine.dispose()
    return tracked


def submission(rng: random.Random, token: str, challenge: str, place: Directory | None = None,
               unit_id: str = CITY) -> dict[str, str]:
    """A citizen's filing: 70 % about a directory entity (picked in the form's search, as often as
    the stored ones), else a free-text target in ``unit_id`` or one of the busiest units."""
    anonymous = rng.random() < 0.35
    entity_id, target = "", rng.choice(FREE_TARGETS) + rng.choice(("", "", "二部", "（东门）", "分店"))
    if place is not None:
        unit_id = rng.choices(place.units, cum_weights=place.unit_cum)[0]
        if rng.random() < 0.7:
            entity_id, target, unit_id = rng.choices(place.entities, cum_weights=place.entity_cum)[0]
    return {"csrf_token": token, "challenge": challenge, "kind": rng.choice(("", "complaint", "report", "report")),
            "target_name": target, "entity_id": entity_id, "unit_id": unit_id, "facts": facts_text(rng),
            "request": rng.choice(("请依法查处", "请尽快处理并答复", "")), "website": "",
            "reply_channel": "" if anonymous else "sms", "name": "" if anonymous else rng.choice(SURNAMES) + "先生",
            "phone": "" if anonymous else f"139{rng.randrange(10**8):08d}", "email": "", "address": ""}
