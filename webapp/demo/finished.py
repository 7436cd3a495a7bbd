"""A finished batch for the demo county (issue #13 point 6): a newcomer sees a real batch summary at once.

The batch is run through the real services, as the people would have: the draw ceremony, the phones'
sync (check-ins near the enterprise, answers, 'no' answers with notes, hazards with deadlines,
signatures, outcomes incl. the early ones of R17), the team lead's review (approve, return, resubmit),
re-inspection and 销号, feedback (R19) and publication (R20), some late, some never.

How it lies in the past: the demo **replays the county's history under a demo clock** (``demo_clock``).
``webapp/db_types.utcnow`` and ``today_shanghai`` are the one source of "now" for every service and
column default; inside ``demo_clock`` they read a clock that starts at a chosen moment and stands still
until the replay sets it forward, event by event (never backwards). So every row, and every
audit entry, carries the time the event happened in the story: nothing is shifted after the fact, the
audit chain is written in order and hashed as written, and deadlines computed from completion dates
come out on time or late as the story says. Outside the replay the real clock is back.

The story (``timeline``): the registries are imported and the plan published about a month before the
batch's window; the window (three weeks) closed 75 days before today; inspections, reviews,
re-inspections, feedback and publication follow over the next weeks and end before today. When that
window would begin before this year (January to early April), the finished batch belongs to last
year's plan instead, and this year's plan is made as before.

Everything is drawn from a fixed random seed: every run on the same day tells the same story.
"""
import hashlib
import heapq
import io
import random
import uuid as uuidlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta, timezone
from time import monotonic

from flask import g
from PIL import Image, ImageDraw
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from .. import db_types
from ..auth.models import User
from ..auth.services import create_user
from ..checklists.models import ChecklistVersion
from ..db_types import SHANGHAI, today_shanghai, utcnow
from ..extensions import db
from ..publication.services import publish, suggest_category
from ..registries.models import Enterprise, Inspector
from ..review import services as review
from ..review.models import Hazard
from ..services import ServiceError
from ..sync import photos
from ..sync.services import sync
from ..tasks.models import Task
from ..workdays import Calendar
from .plan import _items, create_plan, current_batches, draw_batch

FINISHED_TITLE = "第一批：工贸企业粉尘防爆和安全管理检查（定向）"
WINDOW_DAYS = 20
#: The window closed this many days before today: long enough for re-inspections and late publications.
CLOSED_DAYS_AGO = 75
#: Registries and plan this many days before the window opens.
LEAD_DAYS = 30


# --- the demo clock -------------------------------------------------------------------------------

class DemoClock:
    """A clock that starts at ``moment`` and, if ``ticking``, runs with real time (else it stands still
    between ``set`` calls, so the story's times do not depend on how fast the machine is); ``set`` moves
    it forward only."""

    def __init__(self, moment: datetime, ticking: bool = True):
        self._base, self._t0, self.ticking = moment, monotonic(), ticking

    def now(self) -> datetime:
        return self._base + timedelta(seconds=monotonic() - self._t0) if self.ticking else self._base

    def set(self, moment: datetime) -> None:
        self._base, self._t0 = max(moment, self.now() + timedelta(milliseconds=1)), monotonic()


@contextmanager
def demo_clock(moment: datetime, ticking: bool = True):
    """Inside: every service's "now" (db_types.utcnow, today_shanghai, column defaults) reads the demo
    clock. Nestable (a test may set "today" around the whole seeding; it must tick there, since the
    current batch's ceremony waits for its beacon in real time)."""
    clock = DemoClock(moment, ticking)

    class _DemoDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            t = clock.now()
            return t.astimezone(tz) if tz is not None else t.astimezone().replace(tzinfo=None)

    previous = db_types.datetime
    db_types.datetime = _DemoDatetime
    try:
        yield clock
    finally:
        db_types.datetime = previous


@contextmanager
def one_hash_for_the_demo_password():
    """Every demo account has the published demo password: hash it once (scrypt takes ~0.5 s) and give
    all of them that hash, instead of ~30 hashes that only cost time. Any other password is hashed as usual."""
    from ..auth import services as auth_services
    from .seed import DEMO_PASSWORD
    real = auth_services.generate_password_hash
    cached = real(DEMO_PASSWORD)
    auth_services.generate_password_hash = lambda password, *a, **kw: (
        cached if password == DEMO_PASSWORD and not a and not kw else real(password, *a, **kw))
    try:
        yield
    finally:
        auth_services.generate_password_hash = real


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant in Asia/Shanghai on ``day``, as UTC."""
    return datetime.combine(day, dtime(hour, minute), SHANGHAI).astimezone(timezone.utc)


@dataclass
class Timeline:
    year: int
    history_start: date
    window_start: date
    window_end: date
    today: date

    @property
    def this_year(self) -> bool:
        return self.year == self.today.year


def timeline(today: date) -> Timeline:
    end = today - timedelta(days=CLOSED_DAYS_AGO)
    start = end - timedelta(days=WINDOW_DAYS)
    if start < date(today.year, 1, 5):  # early in the year: the finished batch is last year's
        end = min(end, date(today.year - 1, 12, 18))
        start = end - timedelta(days=WINDOW_DAYS)
    return Timeline(start.year, start - timedelta(days=LEAD_DAYS), start, end, today)


DUSTY_INDUSTRIES = ["metallurgy", "nonferrous", "building_materials", "machinery", "light_industry", "textile",
                    "tobacco"]


def finished_batch_form(tl: Timeline) -> MultiDict:
    """A directed draw of 工贸 units with dust-explosion hazards: 36 at random (fewer in a small county,
    at most two thirds of the pool), plus the key units the plan slots into it."""
    pool = db.session.scalar(select(func.count()).select_from(Enterprise).where(
        Enterprise.industry.in_(DUSTY_INDUSTRIES), Enterprise.dust_explosion.is_(True),
        Enterprise.status == "operating"))
    form = MultiDict({"title": FINISHED_TITLE, "window_start": tl.window_start.isoformat(),
                      "window_end": tl.window_end.isoformat(), "draw_type": "directed",
                      "sample_size": str(max(1, min(36, pool * 2 // 3))), "group_size": "2",
                      "capacity": "10", "method": "onsite"})
    form.setlist("item", _items("GM-GEN-01", "GM-DUST-01", "GM-DUST-02"))
    form.setlist("industry", DUSTY_INDUSTRIES)
    form.setlist("flag", ["dust_explosion"])
    return form


def last_year_rest(tl: Timeline) -> MultiDict:
    """Last year's plan, when the finished batch is last year's: the units that batch does not fit
    (hazardous chemicals, mines) were in a second batch, so the finished batch holds its own share."""
    start = tl.window_end + timedelta(days=5)
    form = MultiDict({"title": "第二批：危险化学品和矿山企业检查（定向）", "window_start": start.isoformat(),
                      "window_end": date(tl.year, 12, 31).isoformat(), "draw_type": "directed", "sample_size": "0",
                      "group_size": "2", "capacity": "10", "method": "onsite"})
    form.setlist("item", _items("HC-01", "HC-02", "HC-03"))
    form.setlist("industry", ["hazchem", "coal", "non_coal_mine"])
    return form


# --- what people wrote ----------------------------------------------------------------------------

#: For a 'no' answer: (the inspector's note, the hazard as ordered). By question id.
FAILS = {
    "G-01": [("与承包单位签订的安全管理协议未明确双方安全职责，未见对承包单位的检查记录。",
              "未对承包单位的安全生产工作统一协调、管理，未定期开展安全检查")],
    "G-02": [("现场抽查2名焊工，其中1人未取得特种作业操作证（焊接与热切割作业）。",
              "特种作业人员未持证上岗（焊接与热切割作业1人）"),
             ("电工张某的特种作业操作证已于去年过期，仍在岗作业。", "电工特种作业操作证过期仍上岗作业")],
    "G-04": [("喷漆房可燃气体报警仪断电停用，企业称“误报多”自行关闭。", "可燃气体报警装置被关闭，处于失效状态"),
             ("熔炼炉冷却水压力低报警联锁被旁路。", "冷却水压力低报警联锁被旁路")],
    "D-01": [("粉尘爆炸危险场所（抛光车间）二层设有员工休息室。", "粉尘爆炸危险场所内设有员工休息室")],
    "D-02": [("木粉与铝粉共用一套除尘系统。", "不同类别可燃性粉尘共用一套除尘系统")],
    "D-03": [("布袋除尘器未设泄爆装置，亦无惰化、抑爆措施。", "干式除尘系统未采取泄爆、惰化、抑爆任一措施")],
    "D-05": [("采用砖砌重力沉降室除尘。", "采用重力沉降室除尘")],
    "D-07": [("除尘器旁配电箱为普通型，不符合防爆要求。", "20区粉尘爆炸危险场所电气设备不防爆")],
    "D-10": [("打磨工位地面、设备顶部积尘厚度超过5毫米。", "作业现场严重积尘，未落实粉尘清理制度")],
    "D-11": [("收尘仓未设置安全警示标志。", "粉尘场所未设置明显的安全警示标志")],
    "D-12": [("泄爆片无检查记录，锁气卸灰阀未定期维护。", "粉尘防爆安全设备未经常性维护保养和检查，无记录")],
    "D-13": [("2名打磨工未穿防静电工作服。", "未为粉尘作业人员配发防静电工作服并监督穿戴")],
    "D-14": [("清扫制度未写明责任人，近两周无清扫记录。", "粉尘清扫制度不完善，无如实清扫记录")],
}
#: Hazards found on site outside the checklist (一般隐患).
EXTRA_HAZARDS = ["消防通道堆放成品纸箱，影响疏散", "配电箱未接地，箱门缺失", "灭火器压力不足，已过检验期",
                 "车间安全出口指示灯损坏", "叉车司机未持证作业"]
RETURN_COMMENTS = ["发现问题中未写明报警装置的具体位置，请补充后重新提交。",
                   "第G-02项未拍摄特种作业操作证照片，请补拍并在备注中说明。",
                   "企业负责人签名与登记的负责人不一致，请核实后重新提交。"]
KEEP_OPEN = ["复查时仍未整改到位，企业称整改所需设备已订购、尚未到货。",
             "企业已制定整改方案但尚未实施，现场情况与检查时一致。",
             "整改只完成一部分，现场仍存在同样问题。"]
PLAN = {"goal": "消除重大事故隐患，恢复安全生产条件", "measures": "停用相关设备，委托有资质单位设计整改方案并施工",
        "funds": "企业自筹12万元", "people": "企业主要负责人、安全总监", "safety": "整改期间相关区域停止作业，设置警戒"}


# --- the replay -----------------------------------------------------------------------------------

class Story:
    """Events in time order; an event may schedule later ones."""

    def __init__(self, clock: DemoClock, tl: Timeline, rng: random.Random):
        self.clock, self.tl, self.rng = clock, tl, rng
        self.events, self.n = [], 0
        self.calendar = Calendar()
        self.limit = at(tl.today - timedelta(days=1), 18)
        self.accounts: dict[int, User] = {}
        self.signatures: dict[tuple[int, str], str] = {}
        self.count = {"inspected": 0, "returned": 0, "reinspections": 0, "closed": 0, "published": 0,
                      "feedback": 0}

    def at(self, moment: datetime, fn, *args) -> None:
        if moment <= self.limit:
            heapq.heappush(self.events, (moment, self.n, fn, args))
            self.n += 1

    def run(self) -> None:
        while self.events:
            moment, _n, fn, args = heapq.heappop(self.events)
            self.clock.set(moment)
            fn(*args)

    def workday(self, day: date, n: int) -> date:
        return self.calendar.add_working_days(day, n)[0] if n > 0 else day

    def uuid(self) -> str:
        return str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))

    # -- people ------------------------------------------------------------------------------------

    def account(self, inspector_id: int) -> User:
        """The phone user of a group member: the demo's own accounts, or one per inspector (as every
        inspector who uses the app has)."""
        if inspector_id not in self.accounts:
            user = db.session.scalar(select(User).where(User.inspector_id == inspector_id))
            if user is None:
                from .seed import DEMO_PASSWORD
                insp = db.session.get(Inspector, inspector_id)
                user = create_user(f"jc{insp.cert_no[-4:]}", insp.name, "inspector", DEMO_PASSWORD, insp.id,
                                   insp.department_id, demo=True)
            self.accounts[inspector_id] = user
        return self.accounts[inspector_id]

    def reviewer(self, task: Task) -> User:
        """The brigade's team lead, unless they were in the group (nobody checks their own work)."""
        lead = db.session.scalar(select(User).where(User.username == "teamlead"))
        if lead is not None and not review.took_part(lead, task):
            return lead
        return brigade_lead()

    def signature(self, user: User, who: str) -> str:
        """A drawn signature, uploaded by ``user`` as the phone does; its SHA-256."""
        key = (user.id, who)
        if key not in self.signatures:
            r = random.Random(who)
            img = Image.new("L", (360, 120), 255)
            pen = ImageDraw.Draw(img)
            x, y = 20, 60
            for _ in range(40):
                nx, ny = min(340, x + r.randint(2, 14)), max(15, min(105, y + r.randint(-25, 25)))
                pen.line((x, y, nx, ny), fill=20, width=3)
                x, y = nx, ny
            buf = io.BytesIO()
            img.save(buf, "PNG")
            data = buf.getvalue()
            sha = hashlib.sha256(data).hexdigest()
            photos.store(sha, data, photos.inspect_image(data), user.id)
            self.signatures[key] = sha
        return self.signatures[key]

    def send(self, user: User, task: Task, records: list[tuple]) -> list[str]:
        """What a phone sends: [(kind, data, uuid or None, base revision)]; every record must be taken."""
        now = utcnow().isoformat()
        out, body = [], []
        for kind, data, uid, base in records:
            uid = uid or self.uuid()
            out.append(uid)
            body.append({"uuid": uid, "kind": kind, "task_id": task.id, "base_revision": base,
                         "device_time": now, "data": data})
        with acting(user):
            reply = sync(user, body)
        if reply["rejected"] or reply["conflicts"]:
            raise RuntimeError(f"demo sync of task {task.id}: {reply['rejected'] or reply['conflicts']}")
        return out


def brigade_lead() -> User:
    return db.session.scalar(select(User).where(User.username == "brigade"))


@contextmanager
def acting(user: User):
    """The audit trail names the person who acted (as a signed-in user or a phone's token would)."""
    before = g.get("api_user")
    g.api_user = user
    try:
        yield
    finally:
        g.api_user = before


# -- one inspection ----------------------------------------------------------------------------

FATES_SPECIAL = ["never", "non_cooperation", "closed", "not_found", "awaiting_review", "returned_open",
                 "late_done", "never"]


def plan_fates(n: int, rng: random.Random) -> list[dict]:
    special = FATES_SPECIAL[:max(0, min(len(FATES_SPECIAL), n - 6))]
    fates = [{"fate": f} for f in special] + [{"fate": "normal"} for _ in range(n - len(special))]
    normal = [f for f in fates if f["fate"] in ("normal", "late_done")]
    for k, f in enumerate(normal):
        f["return"] = k % 5 == 1
        f["publish"] = "missing" if k in (3, 11) else ("late" if k % 6 == 4 else "on_time")
        f["feedback"] = "missing" if k == 7 else ("late" if k % 7 == 5 else ("post" if k % 4 == 2 else "on_site"))
        f["hazards"] = "clean" if k % 5 in (0, 3) else "found"
        f["follow"] = "left_open" if k in (2, 9) else "reinspect"
    for f in fates:
        if f["fate"] in ("non_cooperation", "closed", "not_found"):
            f.update({"publish": "on_time", "feedback": "post", "return": False, "hazards": "clean"})
    rng.shuffle(fates)
    return fates


def start(story: Story, task: Task, fate: dict) -> None:
    rng, tl = story.rng, story.tl
    if fate["fate"] == "never":
        return  # overdue: the window passed and nobody went (R24)
    if fate["fate"] == "late_done":
        day = story.workday(tl.window_end, rng.randint(2, 4))
    else:
        days = [tl.window_start + timedelta(days=k) for k in range(WINDOW_DAYS + 1)]
        day = rng.choice([d for d in days if story.calendar.is_workday(d)[0]] or days)
    story.at(at(day, rng.randint(9, 14), rng.choice((0, 10, 20, 30, 40, 50))), inspect, story, task.id, fate)


def _checkin(story: Story, task: Task) -> dict:
    lat, lng = task.enterprise.get("lat"), task.enterprise.get("lng")
    r = story.rng
    if lat is None or lng is None:
        return {"lat": None, "lng": None, "accuracy_m": None}
    return {"lat": round(lat + r.uniform(-0.0008, 0.0008), 6), "lng": round(lng + r.uniform(-0.0008, 0.0008), 6),
            "accuracy_m": float(r.randint(6, 30))}


def _answers(story: Story, task: Task, clean: bool) -> tuple[list[tuple], list[tuple]]:
    """The answers to every question of the task's checklists, and the hazards of the 'no' answers."""
    r, flags = story.rng, set(task.enterprise.get("flags") or [])
    industry = task.enterprise.get("industry")
    answers, hazards, day = [], [], today_shanghai()
    questions = []
    for c in task.checklists:
        version = db.session.get(ChecklistVersion, c["id"])
        questions += [(f"{c['code']}@{c['version']}", q) for q in version.questions]

    def applies(q):
        qid = q["id"]
        if qid in ("D-04", "D-09"):  # aluminium and magnesium dust
            return "dust_explosion" in flags and industry in ("nonferrous", "metallurgy")
        if qid == "D-06":  # metal and wood dust
            return "dust_explosion" in flags and industry in ("nonferrous", "metallurgy", "light_industry")
        if qid.startswith("D-"):
            return "dust_explosion" in flags
        if qid == "G-03":
            return industry == "metallurgy"
        return not (qid == "G-01" and r.random() < 0.2)
    applicable = [q["id"] for _c, q in questions if applies(q)]
    candidates = [qid for qid in applicable if qid in FAILS]
    failing = set() if clean or not candidates else set(r.sample(candidates, k=min(len(candidates), r.choice((1, 1, 2, 3)))))
    for checklist, q in questions:
        qid = q["id"]
        if qid not in applicable:
            answers.append(("answer", {"question": qid, "checklist": checklist, "result": "na",
                                       "note": "企业无此情形" if qid != "G-01" else "无承包、承租单位"}, None, 0))
        elif qid in failing:
            note, order = r.choice(FAILS[qid])
            answers.append(("answer", {"question": qid, "checklist": checklist, "result": "no", "note": note}, None, 0))
            grade = q.get("hazard_grade") or "general"
            due = day + timedelta(days=r.randint(28, 40) if grade == "major" else r.randint(10, 15))
            hazards.append(("hazard", {"question": qid, "grade": grade, "description": order,
                                       "deadline": due.isoformat()}, None, 0))
        else:
            answers.append(("answer", {"question": qid, "checklist": checklist, "result": "yes"}, None, 0))
    if not clean and r.random() < 0.4:
        hazards.append(("hazard", {"question": None, "grade": "general", "description": r.choice(EXTRA_HAZARDS),
                                   "deadline": (day + timedelta(days=r.randint(7, 12))).isoformat()}, None, 0))
    return answers, hazards


def inspect(story: Story, task_id: int, fate: dict) -> None:
    """On site: each member checks in and signs on their phone; the group's leader sends the answers,
    hazards, the enterprise's signature and the outcome, which submits the inspection."""
    task = db.session.get(Task, task_id)
    members = [story.account(m.inspector_id) for m in task.active_members]
    lead, others = members[0], members[1:]
    for k, user in enumerate(members):  # on arrival, each on their own phone
        story.clock.set(story.clock.now() + timedelta(seconds=40 + 20 * k))
        story.send(user, task, [("checkin", _checkin(story, task), None, 0)])
    story.clock.set(story.clock.now() + timedelta(minutes=story.rng.randint(40, 110)))
    for user in others:
        story.send(user, task, [("signature", {"role": "inspector", "inspector_id": user.inspector_id,
                                               "name": user.display_name,
                                               "image": story.signature(user, user.display_name)}, None, 0)])
    story.clock.set(story.clock.now() + timedelta(minutes=2))
    kind = fate["fate"]
    records = [("signature", {"role": "inspector", "inspector_id": lead.inspector_id, "name": lead.display_name,
                              "image": story.signature(lead, lead.display_name)}, None, 0)]
    contact = task.enterprise.get("legal_rep") or "企业负责人"
    hazards = []
    if kind == "non_cooperation":
        records += [("signature", {"role": "enterprise", "name": contact, "refused": True}, None, 0),
                    ("outcome", {"outcome": "non_cooperation", "reason": "refused_entry",
                                 "note": "门卫称负责人不在，拒绝执法人员进入厂区，经电话联系负责人仍拒绝配合检查。",
                                 "submitted_at": utcnow().isoformat()}, None, 0)]
    elif kind in ("closed", "not_found"):
        note = ("厂区大门上锁，设备已拆除，经村委会证实企业已于今年停产关闭。" if kind == "closed"
                else "按登记住所前往，该地址为空置厂房，电话无人接听，无法联系到企业。")
        records.append(("outcome", {"outcome": kind, "note": note, "submitted_at": utcnow().isoformat()}, None, 0))
    else:
        answers, hazards = _answers(story, task, fate.get("hazards") == "clean")
        records += answers + hazards
        records += [("signature", {"role": "enterprise", "name": contact,
                                   "image": story.signature(lead, contact)}, None, 0),
                    ("outcome", {"outcome": "completed", "note": "", "submitted_at": utcnow().isoformat()}, None, 0)]
    uuids = story.send(lead, task, records)
    fate["records"] = dict(zip(uuids, records))
    story.count["inspected"] += 1
    day = today_shanghai()
    # Feedback (R19): on site, by post within the 7 working days, late, or never.
    way = fate.get("feedback", "on_site")
    if way != "missing":
        given = {"on_site": day, "post": story.workday(day, story.rng.randint(2, 6)),
                 "late": story.workday(day, story.rng.randint(9, 14))}[way]
        story.at(at(given, 16, 30), feedback, story, task_id, given, "on_site" if way == "on_site" else "post")
    if kind == "awaiting_review":
        return
    story.at(at(story.workday(day, story.rng.randint(1, 3)), story.rng.randint(9, 16)), decide, story, task_id, fate)


def feedback(story: Story, task_id: int, given: date, way: str) -> None:
    task = db.session.get(Task, task_id)
    user = story.reviewer(task)
    note = "检查结果和责令限期整改指令书当场交企业负责人签收" if way == "on_site" else "检查结果邮寄至企业登记住所"
    with acting(user):
        review.record_feedback(task, given.isoformat(), way, note, user)
    story.count["feedback"] += 1


def decide(story: Story, task_id: int, fate: dict) -> None:
    """The team lead's review: return once for correction (some), else approve; then publication."""
    task = db.session.get(Task, task_id)
    user = story.reviewer(task)
    if fate.get("return") or fate["fate"] == "returned_open":
        with acting(user):
            review.return_for_correction(task, user, story.rng.choice(RETURN_COMMENTS))
        story.count["returned"] += 1
        fate["return"] = False
        if fate["fate"] != "returned_open":
            story.at(at(story.workday(today_shanghai(), story.rng.randint(1, 3)), 10, 15), resubmit, story, task_id, fate)
        return
    with acting(user):
        review.approve(task, user)
    after_approval(story, task, fate)


def resubmit(story: Story, task_id: int, fate: dict) -> None:
    """The group corrects a note and submits again (a new revision of the outcome)."""
    task = db.session.get(Task, task_id)
    lead = story.account(task.active_members[0].inspector_id)
    records = fate["records"]
    fix = next(((u, d) for u, (k, d, *_r) in records.items() if k == "answer" and d.get("result") == "no"), None) \
        or next((u, d) for u, (k, d, *_r) in records.items() if k == "answer")
    outcome = next((u, d) for u, (k, d, *_r) in records.items() if k == "outcome")
    amended = {**fix[1], "note": ((fix[1].get("note") or "") + "（补充：已核实具体位置和人员，照片已存档。）").strip()}
    story.send(lead, task, [("answer", amended, fix[0], 1),
                            ("outcome", {**outcome[1], "submitted_at": utcnow().isoformat()}, outcome[0], 1)])
    story.at(at(story.workday(today_shanghai(), story.rng.randint(1, 2)), 15, 20), decide, story, task_id, fate)


def after_approval(story: Story, task: Task, fate: dict) -> None:
    done = review.completed_on(task)
    r = story.rng
    if fate.get("publish") != "missing":
        limit = task.publication_days
        n = r.randint(limit + 3, limit + 12) if fate.get("publish") == "late" else r.randint(3, limit - 4)
        day = max(story.workday(done, n), today_shanghai())
        story.at(at(day, 15, 40), publish_result, story, task.id)
    hazards = db.session.scalars(select(Hazard).where(Hazard.task_id == task.id).order_by(Hazard.id)).all()
    if not hazards:
        return
    for h in hazards:
        if h.grade == "major" and r.random() < 0.5:
            story.at(at(story.workday(today_shanghai(), 3), 11), rectification_plan, story, h.id)
    if fate.get("follow") == "left_open":
        if any(h.grade == "major" for h in hazards):
            major = next(h for h in hazards if h.grade == "major")
            story.at(at(story.workday(today_shanghai(), 5), 10), supervise, story, major.id)
        return  # nobody went back: overdue, unescalated (R24)
    last = max(h.deadline for h in hazards if h.deadline)
    story.at(at(story.workday(last, 1), 9, 30), schedule, story, task.id)


def publish_result(story: Story, task_id: int) -> None:
    task = db.session.get(Task, task_id)
    user = story.reviewer(task)
    with acting(user):
        publish(task, suggest_category(task), user)
    story.count["published"] += 1


def rectification_plan(story: Story, hazard_id: int) -> None:
    hazard = db.session.get(Hazard, hazard_id)
    if hazard.status == "closed":
        return
    user = story.reviewer(hazard.task)
    with acting(user):
        review.save_plan(hazard, {**PLAN, "deadline": hazard.deadline.isoformat()}, user)


def supervise(story: Story, hazard_id: int) -> None:
    hazard = db.session.get(Hazard, hazard_id)
    user = story.reviewer(hazard.task)
    with acting(user):
        review.supervise(hazard, "县应急管理局", user)


def schedule(story: Story, task_id: int) -> None:
    """The day after the last deadline the re-inspection goes to the same group (as `flask hazards due`)."""
    task = db.session.get(Task, task_id)
    user = story.reviewer(task)
    try:
        with acting(user):
            again = review.schedule_reinspection(task, user)
    except ServiceError:
        return
    story.count["reinspections"] += 1
    story.at(at(story.workday(today_shanghai(), story.rng.randint(2, 6)), 10, 30), reinspect, story, again.id)


def reinspect(story: Story, task_id: int) -> None:
    """On site again: check-ins, a finding per hazard (most rectified), signatures, the outcome."""
    again = db.session.get(Task, task_id)
    members = [story.account(m.inspector_id) for m in again.active_members]
    for k, user in enumerate(members):
        story.clock.set(story.clock.now() + timedelta(seconds=40 + 20 * k))
        story.send(user, again, [("checkin", _checkin(story, again), None, 0)])
    story.clock.set(story.clock.now() + timedelta(minutes=story.rng.randint(20, 50)))
    for user in members[1:]:
        story.send(user, again, [("signature", {"role": "inspector", "inspector_id": user.inspector_id,
                                                "name": user.display_name,
                                                "image": story.signature(user, user.display_name)}, None, 0)])
    story.clock.set(story.clock.now() + timedelta(minutes=2))
    lead = members[0]
    hazards = db.session.scalars(select(Hazard).where(Hazard.reinspection_task_id == again.id)
                                 .order_by(Hazard.id)).all()
    records = [("signature", {"role": "inspector", "inspector_id": lead.inspector_id, "name": lead.display_name,
                              "image": story.signature(lead, lead.display_name)}, None, 0)]
    for h in hazards:
        fixed = story.rng.random() < 0.85
        records.append(("closure", {"hazard": h.record_uuid, "rectified": fixed,
                                    "note": "已按要求整改到位，现场核实。" if fixed else story.rng.choice(KEEP_OPEN)}, None, 0))
    records.append(("outcome", {"outcome": "completed", "note": "", "submitted_at": utcnow().isoformat()}, None, 0))
    story.send(lead, again, records)
    story.at(at(today_shanghai(), 17, 10), feedback, story, again.id, today_shanghai(), "on_site")
    story.at(at(story.workday(today_shanghai(), story.rng.randint(1, 2)), 14), settle, story, again.id)


def settle(story: Story, task_id: int) -> None:
    """The team lead approves the re-inspection and closes (销号) what was rectified; the rest stays open,
    one of them escalated, one given more time."""
    again = db.session.get(Task, task_id)
    user = story.reviewer(again)
    with acting(user):
        review.approve(again, user)
    for h in db.session.scalars(select(Hazard).where(Hazard.reinspection_task_id == again.id).order_by(Hazard.id)):
        with acting(user):
            if h.rectified:
                review.close_hazard(h, user)
                story.count["closed"] += 1
                continue
            review.keep_open(h, user, story.rng.choice(KEEP_OPEN))
            if h.grade == "major" and not story.escalated:
                review.escalate(h, "case", "", "重大事故隐患逾期未整改，依法立案查处", user)
                story.escalated = True
            elif not story.extended:
                review.extend_deadline(h, (story.tl.today + timedelta(days=20)).isoformat(),
                                       "企业申请延期：整改设备需定制，已提交整改计划", user)
                story.extended = True


# --- the whole history ------------------------------------------------------------------------

def seed_history(checklist_folder: str, n_enterprises: int, seed_registries) -> dict:
    """The demo county from its first import to today: registries, the plan, the finished batch (under the
    demo clock), then this year's current batch drawn at the real time. Returns what the CLI prints."""
    today = today_shanghai()
    tl = timeline(today)
    rng = random.Random(2613)
    with demo_clock(at(tl.history_start, 9), ticking=False) as clock, one_hash_for_the_demo_password():
        summary = seed_registries(checklist_folder, n_enterprises)
        clock.set(at(tl.history_start + timedelta(days=1), 10))
        finished = finished_batch_form(tl)
        with acting(brigade_lead()):  # the brigade's responsible person makes the plan and runs the draw
            if tl.this_year:
                plan = create_plan(tl.year, [finished] + current_batches(today, first=2))
            else:
                plan = create_plan(tl.year, [finished, last_year_rest(tl)])
            batch = plan.batches[0]
            clock.set(at(tl.window_start - timedelta(days=2), 10))
            draw = draw_batch(batch, clock)
        story = Story(clock, tl, rng)
        story.escalated = story.extended = False
        tasks = db.session.scalars(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched")
                                   .order_by(Task.id)).all()
        for task, fate in zip(tasks, plan_fates(len(tasks), rng)):
            start(story, task, fate)
        story.run()
    summary.update({"finished_batch": f"{batch.title} ({tl.window_start} – {tl.window_end})",
                    "finished_tasks": len(draw.result["selected"]), **{f"finished_{k}": v for k, v in story.count.items()}})
    return {"summary": summary, "plan": plan if tl.this_year else None}
