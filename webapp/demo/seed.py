"""A demo county: a dozen townships, ~2,000 enterprises, ~60 inspectors, the shipped checklists.

Registries go in through the same import services an office uses, so the demo exercises the
real path. Everything is generated from a fixed random seed: every run looks the same.
"""
import random
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from stdnum.cn import uscc as stdnum_uscc

from ..auth.services import create_user
from ..checklists.loader import load_folder
from ..extensions import db
from ..registries.import_specs import EnterpriseSpec, InspectorSpec, ItemSpec
from ..registries.importing import run_import
from ..registries.models import Department, Enterprise, Inspector
from ..registries.services import save_competence, save_department, save_region
from ..registries.tabular import write_csv
from ..registries.vocab import ACTIVE_FILE, FLAG_FILE, INDUSTRY_FILE, NO_FILE, STATUS_FILE, YES_FILE

COUNTY_CODE = "140525"
DEMO_PASSWORD = "ssj-demo-2026"
#: (username, display name, role, department or None, inspector cert_no or None)
DEMO_USERS = [
    ("admin", "协调办 管理员", "admin", "双随机工作领导小组办公室", None),
    ("brigade", "执法大队 队长", "brigade_lead", "综合行政执法大队", None),
    ("teamlead", "执法大队 组长", "team_lead", "综合行政执法大队", "14052500001"),
    ("inspector", "执法大队 检查员", "inspector", "综合行政执法大队", "14052500002"),
    # The business offices: they receive the brigade's batch summaries and acknowledge them (R23).
    ("hazchem", "危化股 股长", "team_lead", "危险化学品安全监督管理股", None),
    ("gongmao", "工贸股 股长", "team_lead", "工贸行业安全监督管理股", None),
    ("coal", "煤炭股 股长", "team_lead", "煤炭安全监督管理股", None),
]
DEPARTMENTS = [
    ("双随机工作领导小组办公室", "office"), ("综合行政执法大队", "brigade"),
    ("危险化学品安全监督管理股", "office"), ("工贸行业安全监督管理股", "office"),
    ("煤炭安全监督管理股", "office"), ("县市场监督管理局", "other_bureau"), ("县消防救援大队", "other_bureau"),
]
TOWNSHIPS = ["城关镇", "东城街道", "西城街道", "南关街道", "北关街道", "河西镇", "新城镇", "石桥镇",
             "柳林镇", "杨庄乡", "高村乡", "马坊镇"]
COMPETENCES = ["危化", "工贸", "工贸-粉尘涉爆", "工贸-液氨制冷", "工贸-有限空间", "煤矿", "非煤矿山"]
#: Industry mix of a county with some mining and chemicals: (industry, weight, name words).
INDUSTRY_MIX = [
    ("commerce", 30, ["商贸", "物流", "超市", "仓储"]), ("machinery", 14, ["机械", "机电", "装备", "铸造"]),
    ("light_industry", 12, ["食品", "酿造", "木业", "包装"]), ("building_materials", 10, ["建材", "水泥", "陶瓷", "石材"]),
    ("hazchem", 8, ["化工", "燃气", "化学", "新材料"]), ("textile", 4, ["纺织", "服饰"]),
    ("metallurgy", 4, ["钢铁", "冶金"]), ("nonferrous", 3, ["铝业", "镁业"]), ("coal", 3, ["煤业", "矿业"]),
    ("non_coal_mine", 4, ["石料厂", "矿产"]), ("tobacco", 1, ["烟草"]), ("other", 7, ["科技", "实业"]),
]
BRANDS = list("晋丰华鑫瑞泰兴隆宏达金源恒信永安盛通宝利福康凯旺嘉禾")
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌")


class AlreadySeeded(Exception):
    pass


def _org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714) with its own check digit."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2)))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(rng: random.Random, county: str = COUNTY_CODE) -> str:
    body = "91" + county + _org_code(rng)
    return body + stdnum_uscc.calc_check_digit(body)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _flags(rng: random.Random, industry: str) -> dict:
    key = (industry in ("coal", "non_coal_mine", "hazchem") or (industry == "metallurgy" and rng.random() < 0.5)
           or rng.random() < 0.01)
    dusty = industry in ("machinery", "light_industry", "metallurgy", "nonferrous", "textile", "tobacco")
    return {
        "key_supervision": key,
        "dust_explosion": dusty and rng.random() < 0.25,
        "confined_space": industry != "commerce" and rng.random() < 0.15,
        "liquid_ammonia": industry == "light_industry" and rng.random() < 0.15,
        "major_hazard": industry == "hazchem" and rng.random() < 0.3,
        "seriously_untrustworthy": rng.random() < 0.005,
        "blacklisted": rng.random() < 0.005,
        "high_credit_risk": rng.random() < 0.02,
        "many_complaints": rng.random() < 0.02,
        "abnormal_operation": rng.random() < 0.02,
        "serious_violation": rng.random() < 0.01,
    }


def enterprise_rows(n: int, townships: list[tuple[str, str]], rng: random.Random):
    """Rows in the import layout (Chinese headers): what an office's spreadsheet holds."""
    weights = [w for _, w, _ in INDUSTRY_MIX]
    seen = set()
    for i in range(n):
        industry, _, words = rng.choices(INDUSTRY_MIX, weights)[0]
        code = make_uscc(rng)
        while code in seen:
            code = make_uscc(rng)
        seen.add(code)
        town, town_code = townships[i % len(townships)] if i < len(townships) else rng.choice(townships)
        flags = _flags(rng, industry)
        status = rng.choices(["operating", "suspended", "deregistered"], [94, 4, 2])[0]
        name = f"{town[:2]}{rng.choice(BRANDS)}{rng.choice(BRANDS)}{rng.choice(words)}有限公司"
        yield [code, name, f"{town}{rng.randint(1, 40)}号路{rng.randint(1, 300)}号", town, town_code,
               f"{112.70 + rng.random() * 0.3:.6f}", f"{35.40 + rng.random() * 0.3:.6f}", INDUSTRY_FILE[industry],
               _person(rng), f"13{rng.randint(100000000, 999999999)}",
               *[YES_FILE if flags[f] else NO_FILE for f in FLAG_FILE], STATUS_FILE[status]]


def inspector_rows(rng: random.Random):
    """About 60 officers: most in the brigade, the rest in the business offices and other bureaus."""
    plan = [("综合行政执法大队", 30, ["危化", "工贸", "工贸-粉尘涉爆", "工贸-有限空间", "工贸-液氨制冷", "煤矿", "非煤矿山"]),
            ("危险化学品安全监督管理股", 9, ["危化"]), ("工贸行业安全监督管理股", 9,
                                                   ["工贸", "工贸-粉尘涉爆", "工贸-有限空间", "工贸-液氨制冷"]),
            ("煤炭安全监督管理股", 6, ["煤矿", "非煤矿山"]), ("县市场监督管理局", 4, []), ("县消防救援大队", 2, [])]
    n = 0
    for dept, count, fields in plan:
        for _ in range(count):
            n += 1
            comps = sorted(set(rng.sample(fields, k=min(len(fields), rng.randint(1, 3))))) if fields else []
            expiry = date(2026, 6, 30) if n % 17 == 0 else date(rng.randint(2027, 2030), rng.randint(1, 12), 28)
            status = "leave" if n % 23 == 0 else ("transfer" if n % 29 == 0 else None)
            note = {"leave": "产假", "transfer": "调往市局"}.get(status, "")
            yield [_person(rng), dept, "组长" if n == 1 else rng.choice(["科员", "队员", "副队长", "股长"]),
                   f"1405250{n:04d}", expiry.isoformat(), ";".join(comps), f"139{rng.randint(10000000, 99999999)}",
                   ACTIVE_FILE[status], note]


def _import(spec, rows, name: str) -> None:
    report = run_import(spec, name, write_csv([c.header for c in spec.columns], rows))
    if not report.ok:
        raise RuntimeError(f"demo {name}: " + "; ".join(str(e) for e in report.errors[:5]))


def seed(checklist_folder: str, n_enterprises: int = 2000) -> dict:
    if db.session.scalar(select(func.count()).select_from(Enterprise)):
        raise AlreadySeeded()
    rng = random.Random(2026)
    for name, kind in DEPARTMENTS:
        if not db.session.scalar(select(Department.id).where(Department.name == name)):
            save_department(name, kind)
    townships = [(name, f"{COUNTY_CODE}{100 + i:03d}") for i, name in enumerate(TOWNSHIPS)]
    for name, code in townships:
        save_region(code, name)
    for name in COMPETENCES:
        save_competence(name)
    items_csv = Path(__file__).with_name("items.csv")
    report = run_import(ItemSpec(), "items.csv", items_csv.read_bytes())
    if not report.ok:
        raise RuntimeError("demo items.csv: " + "; ".join(str(e) for e in report.errors[:5]))
    checklists = load_folder(checklist_folder)
    if checklists.errors:
        raise RuntimeError("checklists: " + "; ".join(checklists.errors[:5]))
    _import(EnterpriseSpec(), list(enterprise_rows(n_enterprises, townships, rng)), "enterprises.csv")
    _import(InspectorSpec(), list(inspector_rows(rng)), "inspectors.csv")
    _recusals(rng)
    for username, display, role, dept, cert in DEMO_USERS:
        dept_id = db.session.scalar(select(Department.id).where(Department.name == dept))
        insp_id = db.session.scalar(select(Inspector.id).where(Inspector.cert_no == cert)) if cert else None
        create_user(username, display, role, DEMO_PASSWORD, insp_id, dept_id, demo=True)
    return {"townships": len(townships), "items": len(report.created), "checklists": len(checklists.added),
            "enterprises": n_enterprises, "inspectors": db.session.scalar(select(func.count()).select_from(Inspector))}


def _recusals(rng: random.Random) -> None:
    from ..registries.services import add_recusal

    inspectors = db.session.scalars(select(Inspector).order_by(Inspector.id)).all()
    usccs = db.session.scalars(select(Enterprise.uscc).order_by(Enterprise.id).limit(400)).all()
    reasons = ["近亲属在该企业担任负责人", "曾在该企业任职未满两年", "与该企业存在经济往来"]
    for insp, code in zip(rng.sample(inspectors, 12), rng.sample(usccs, 12)):
        add_recusal(insp, code, rng.choice(reasons))
