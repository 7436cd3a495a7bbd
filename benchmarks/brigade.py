"""The brigade's figures at scale (issue #13, "Performance").

    python benchmarks/brigade.py        # PostgreSQL: a year of 20,000 random tasks in 4 batches of 5,000;
                                        # the last batch holds 50,000 hazards (the others the same density)
    python benchmarks/brigade.py --tasks 1000 --hazards 10000 --year-tasks 4000     # smaller

Builds a throw-away schema (benchmarks/_common.bench_app) and fills it set-based (INSERT … SELECT over
generate_series, never the ORM per row) with what the app itself would hold after a year: 100,000
enterprises (key-supervision and blacklisted units among them), 300 inspectors in four squads and the
offices, a published plan with its changes, four batches with their draws, tasks with their groups,
the phones' records as sync writes them (check-ins, one answer per checklist question, hazards,
the outcome, signatures; closures on re-inspections), the hazard register (both grades, every status,
deadlines, closures, escalations, supervision, events), re-inspection tasks, feedback (R19) and
published results (R20), some of each late; a few units checked three times (R10) and a few key units
never (R8). Then ANALYZE (the test server runs with autovacuum off).

Measured, after a warm-up, ``--repeat`` times each (median and max reported):

* ``summary_ms``: ``webapp.brigade.stats.batch_summary(batch)`` for the last batch; ``summary_page_ms``:
  its page through the Flask test client as the brigade lead (target < 300 ms for the page);
* ``dashboard_ms``: ``webapp.brigade.compliance.year_compliance(year)``; ``dashboard_page_ms``: its page
  as the office (target < 500 ms);
* ``export_s`` / ``export_peak_mb``: the XLSX export of the year, the job function of
  ``webapp/brigade/exports.py`` run in a child process (a fresh interpreter, as a worker would run it);
  the peak is the child's peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, the
  whole process: interpreter, Flask app and the job), ``export_baseline_mb`` the same just before the
  job started (targets: < 10 s, < 200 MB).

Progress goes to stderr; the last line on stdout is one JSON object.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import bench_app  # noqa: E402

SQUADS = ["执法一中队", "执法二中队", "执法三中队", "执法四中队"]
#: (group, industries, item codes, checklist codes): what a task checks, by the enterprise's industry.
GROUPS = [
    ("hazchem", ["hazchem"], ["HC-01", "HC-02", "HC-03"], ["hazchem"]),
    ("mine", ["coal", "non_coal_mine"], ["COAL-01", "COAL-02", "COAL-03", "COAL-04"], ["coal"]),
    ("dust", ["machinery", "light_industry", "metallurgy", "nonferrous", "textile", "tobacco"],
     ["GM-GEN-01", "GM-DUST-01", "GM-DUST-02"], ["gongmao-general", "gongmao-dust"]),
    ("trade", ["commerce", "building_materials", "other"], ["GM-GEN-01", "GM-CS-01"],
     ["gongmao-general", "gongmao-confined"]),
]
INDUSTRY_WEIGHTS = [("commerce", 30), ("machinery", 14), ("light_industry", 12), ("building_materials", 10),
                    ("hazchem", 8), ("textile", 4), ("metallurgy", 4), ("nonferrous", 3), ("coal", 3),
                    ("non_coal_mine", 4), ("tobacco", 1), ("other", 7)]
WORDS = {"commerce": "商贸", "machinery": "机械", "light_industry": "食品", "building_materials": "建材",
         "hazchem": "化工", "textile": "纺织", "metallurgy": "钢铁", "nonferrous": "铝业", "coal": "煤业",
         "non_coal_mine": "矿产", "tobacco": "烟草", "other": "实业"}
PASSWORD = "benchmark-pass"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sql(statement: str, **params) -> int:
    from sqlalchemy import text

    from webapp.extensions import db
    t0 = time.perf_counter()
    result = db.session.execute(text(statement), params)
    db.session.commit()
    first = " ".join(statement.split())[:70]
    log(f"  {result.rowcount if result.rowcount is not None else '?':>8} rows  {time.perf_counter() - t0:6.1f} s  {first}")
    return result.rowcount


def scalar(statement: str, **params):
    from sqlalchemy import text

    from webapp.extensions import db
    return db.session.execute(text(statement), params).scalar()


# --- registries ----------------------------------------------------------------------------------

def registries(enterprises: int, inspectors: int) -> dict:
    """Departments, townships, competences, the item list and the shipped checklists through the services
    an office uses; enterprises, inspectors and their accounts set-based."""
    from sqlalchemy import select

    from webapp.auth.services import create_user
    from webapp.checklists.loader import load_folder
    from webapp.demo.seed import COUNTY_CODE, DEPARTMENTS, TOWNSHIPS
    from webapp.extensions import db
    from webapp.registries.import_specs import ItemSpec
    from webapp.registries.importing import run_import
    from webapp.registries.models import Department
    from webapp.registries.services import save_competence, save_department, save_region

    for name, kind in DEPARTMENTS:
        save_department(name, kind)
    for name in SQUADS:
        save_department(name, "brigade")
    for i, name in enumerate(TOWNSHIPS):
        save_region(f"{COUNTY_CODE}{100 + i:03d}", name)
    for name in ("危化", "工贸", "工贸-粉尘涉爆", "工贸-液氨制冷", "工贸-有限空间", "煤矿", "非煤矿山"):
        save_competence(name)
    report = run_import(ItemSpec(), "items.csv", (ROOT / "webapp/demo/items.csv").read_bytes())
    assert report.ok, report.errors[:3]
    loaded = load_folder(ROOT / "checklists")
    assert not loaded.errors, loaded.errors[:3]
    log("registries loaded through the services")

    industries = [i for i, w in INDUSTRY_WEIGHTS for _ in range(w)]  # 100 entries
    sql("SELECT setseed(0.13)")
    sql("""
        INSERT INTO enterprise (uscc, name, address, region_id, lat, lng, industry, legal_rep, phone, status,
            key_supervision, dust_explosion, confined_space, liquid_ammonia, major_hazard, seriously_untrustworthy,
            blacklisted, high_credit_risk, many_complaints, abnormal_operation, serious_violation,
            created_at, updated_at)
        SELECT '91140525' || lpad(g::text, 9, '0') || 'X',
               left(r.name, 2) || '第' || g || '号' || (CAST(:words AS text[]))[ind.k] || '有限公司',
               r.name || (g % 40 + 1) || '号路' || (g % 300 + 1) || '号', r.id,
               35.40 + random() * 0.3, 112.70 + random() * 0.3, (CAST(:industries AS text[]))[ind.k],
               '王' || chr(20255 + g % 200), '13' || lpad((g * 7919 % 1000000000)::text, 9, '0'),
               CASE WHEN u.s < 0.94 THEN 'operating' WHEN u.s < 0.98 THEN 'suspended' ELSE 'deregistered' END,
               CASE WHEN (CAST(:industries AS text[]))[ind.k] IN ('hazchem', 'coal', 'non_coal_mine')
                    THEN u.f < 0.30 ELSE u.f < 0.015 END,
               random() < 0.08, random() < 0.10, random() < 0.02, random() < 0.02, random() < 0.005,
               u.f BETWEEN 0.5 AND 0.504, random() < 0.02, random() < 0.02, random() < 0.02, random() < 0.01,
               now() - interval '3 years', now() - interval '200 days'
        FROM generate_series(1, :n) g
        CROSS JOIN LATERAL (SELECT 1 + (hashint4(g) & 2147483647) % 100 AS k) ind
        CROSS JOIN LATERAL (SELECT random() AS s, random() AS f, g AS gg) u
        JOIN region r ON r.id = (SELECT min(id) FROM region) + g % (SELECT count(*) FROM region)
        """, n=enterprises, industries=industries, words=[WORDS[i] for i in industries])
    squads = [db.session.scalar(select(Department.id).where(Department.name == n)) for n in SQUADS]
    offices = db.session.scalars(select(Department.id).where(Department.kind == "office")).all()
    # Four squads share 80 % of the inspectors; the offices the rest.
    depts = [squads[k % 4] for k in range(inspectors * 4 // 5)]
    depts += [offices[k % len(offices)] for k in range(inspectors - len(depts))]
    sql("""
        INSERT INTO inspector (name, department_id, post, cert_no, cert_expiry, phone, active, inactive_note, updated_at)
        SELECT '检查员' || g, (CAST(:depts AS int[]))[g], CASE WHEN g % 15 = 1 THEN '组长' ELSE '队员' END,
               '1405259' || lpad(g::text, 5, '0'), CURRENT_DATE + 900, '139' || lpad(g::text, 8, '0'), true, '', now()
        FROM generate_series(1, :n) g""", n=inspectors, depts=depts)
    sql("""
        INSERT INTO user_account (username, display_name, password_hash, role, inspector_id, department_id, active,
                                  created_at, credential_epoch)
        SELECT 'insp' || i.id, i.name, '!', 'inspector', i.id, i.department_id, true, now(), 0 FROM inspector i""")
    lead = create_user("lead", "大队长", "brigade_lead", PASSWORD)
    office = create_user("office", "协调办", "admin", PASSWORD)
    team_inspector = scalar("SELECT min(id) FROM inspector WHERE department_id = :d", d=squads[1])
    sql("UPDATE user_account SET inspector_id = NULL WHERE inspector_id = :i", i=team_inspector)
    team = create_user("teamlead", "二中队组长", "team_lead", PASSWORD, team_inspector, squads[1])
    return {"lead": lead.id, "office": office.id, "teamlead": team.id, "squads": squads}


# --- the year's plan, batches and draws --------------------------------------------------------------

def plan_and_batches(year_tasks: int, today: date) -> tuple[int, int, list[int]]:
    from sqlalchemy import select, text

    from webapp.checklists.models import ChecklistVersion
    from webapp.draws.models import Batch, Draw, Plan, PlanChange
    from webapp.extensions import db
    from webapp.registries.models import InspectionItem

    utc = timezone.utc
    year = (today - timedelta(days=5)).year
    plan = Plan(year=year, title=f"{year}年度安全生产“双随机、一公开”监管抽查工作计划", state="published",
                publication_days=20, created_by="lead", created_at=datetime(year, 1, 5, 2, tzinfo=utc),
                approved_by="office", approved_at=datetime(year, 1, 10, 2, tzinfo=utc),
                published_at=datetime(year, 1, 12, 2, tzinfo=utc))
    db.session.add(plan)
    # Windows relative to today: three finished batches and the last one closed five days ago.
    windows = [(today - timedelta(days=a), today - timedelta(days=b))
               for a, b in ((260, 210), (190, 140), (120, 70), (50, 5))]
    items = db.session.scalars(select(InspectionItem).order_by(InspectionItem.id)).all()
    batches = []
    for seq, (start, end) in enumerate(windows, 1):
        batch = Batch(plan=plan, seq=seq, title=f"第{seq}批：{'工贸、危化、矿山企业'}安全检查（不定向）", window_start=start,
                      window_end=end, sample_size=year_tasks // 4, group_size=2, capacity=40, method="onsite")
        batch.items = [i for i in items if not i.code.startswith(("COMPLAINT", "ASSIGNED", "REFERRAL", "ACCIDENT"))]
        db.session.add(batch)
        batches.append(batch)
    db.session.flush()
    for batch in batches:
        at = datetime.combine(batch.window_start - timedelta(days=3), datetime.min.time(), utc)
        db.session.add(Draw(draw_id=f"{year}-{plan.id}-{batch.seq}-1", batch_id=batch.id, seq=1, state="drawn",
                            beacon_ref="drand quicknet round 1 (benchmark)", beacon_at=at, commitment="ab" * 32,
                            committed_at=at, committed_by="lead", beacon_value="cd" * 32, revealed_at=at,
                            revealed_by="lead", seed="ef" * 32, result={}, roster={}, published_at=at))
    for k in range(6):  # R5: plan changes, one published late and one not yet
        at = datetime(year, 2 + k, 3, 2, tzinfo=utc)
        due = (at + timedelta(days=14)).date()
        db.session.add(PlanChange(plan_id=plan.id, at=at, by="lead", summary=f"调整第{k % 4 + 1}批抽查窗口", publish_due=due,
                                  published_at=None if k == 5 else at + timedelta(days=20 if k == 2 else 3)))
    db.session.commit()
    # What each group of tasks checks (frozen at dispatch as the draw does).
    latest = {}
    for c in db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.valid_from)):
        latest[c.code] = c
    by_code = {i.code: i for i in items}
    sql("CREATE TABLE bench_grp (grp text PRIMARY KEY, items json, checklists json)")
    sql("CREATE TABLE bench_ind (industry text PRIMARY KEY, grp text)")
    sql("CREATE TABLE bench_q (grp text, seq int, qid text, checklist text)")
    for grp, industries, codes, checklists in GROUPS:
        item_json = [{"item_id": by_code[c].id, "version_id": by_code[c].current.id, "code": c,
                      "version": by_code[c].current.version, "name": by_code[c].current.name,
                      "legal_basis": by_code[c].current.legal_basis} for c in codes]
        cl_json = [{"id": latest[c].id, "code": c, "version": latest[c].version, "title": latest[c].title}
                   for c in checklists]
        sql("INSERT INTO bench_grp VALUES (:g, CAST(:i AS json), CAST(:c AS json))", g=grp,
            i=json.dumps(item_json, ensure_ascii=False), c=json.dumps(cl_json, ensure_ascii=False))
        for ind in industries:
            sql("INSERT INTO bench_ind VALUES (:i, :g)", i=ind, g=grp)
        rows = [{"g": grp, "q": q["id"], "c": f"{c}@{latest[c].version}"}
                for c in checklists for q in latest[c].questions]
        db.session.execute(text("INSERT INTO bench_q VALUES (:g, :s, :q, :c)"),
                           [{**r, "s": k} for k, r in enumerate(rows, 1)])
    db.session.commit()
    return plan.id, year, [b.id for b in batches]


# --- tasks and everything the phones and the office did with them -----------------------------------

def tasks(year_tasks: int, batch_ids: list[int], today: date) -> None:
    """The year's random tasks: every key and blacklisted unit but a few (R8/R9 breaches), the rest from
    the pool; 1 % of ordinary units checked twice, three of them three times (R10 breach)."""
    mandatory = scalar("SELECT count(*) FROM enterprise WHERE status = 'operating' AND (key_supervision OR blacklisted)")
    repeats, triples = year_tasks // 100, 3
    distinct = year_tasks - repeats - triples
    sql("SELECT setseed(0.29)")
    sql("""
        CREATE TABLE bench_pick AS
        SELECT id AS enterprise_id, row_number() OVER (ORDER BY prio DESC, r) AS rn,
               CASE WHEN key_supervision AND prio THEN 'R8 重点监管单位' WHEN blacklisted AND prio THEN 'R9 黑名单单位'
                    ELSE 'pool' END AS basis
        FROM (SELECT e.*, random() AS r,
                     (e.key_supervision OR e.blacklisted) AND e.id % 500 <> 7 AS prio  -- a few key units skipped
              FROM enterprise e WHERE e.status = 'operating') s""")
    sql("""
        CREATE TABLE bench_t AS
        SELECT p.enterprise_id, p.basis, 1 + (p.rn % 4)::int AS bseq FROM bench_pick p WHERE p.rn <= :distinct
        UNION ALL SELECT p.enterprise_id, 'pool', 1 + ((p.rn + 1) % 4)::int FROM bench_pick p
            WHERE p.rn > :mandatory AND p.rn <= :mandatory + :repeats
        UNION ALL SELECT p.enterprise_id, 'pool', 1 + ((p.rn + 2) % 4)::int FROM bench_pick p
            WHERE p.rn > :mandatory AND p.rn <= :mandatory + :triples""",
        distinct=distinct, mandatory=mandatory, repeats=repeats, triples=triples)
    sql("CREATE TABLE bench_batch (bseq int PRIMARY KEY, batch_id int, draw_pk int, window_start date, window_end date)")
    sql("""INSERT INTO bench_batch SELECT b.seq, b.id, d.id, b.window_start, b.window_end
           FROM batch b JOIN draw d ON d.batch_id = b.id WHERE b.id = ANY(:ids)""", ids=batch_ids)
    n_insp = scalar("SELECT count(*) FROM inspector i JOIN department d ON d.id = i.department_id "
                    "WHERE d.name = ANY(:s)", s=SQUADS)
    sql("SELECT setseed(0.31)")
    # Everything random about a task, decided once: status, progress, outcome, review, group.
    sql("""
        CREATE TABLE bench_task AS
        SELECT t.*, b.batch_id, b.draw_pk, b.window_start, b.window_end, ig.grp,
               CASE WHEN u1 < 0.015 THEN 'unstaffed' WHEN u1 < 0.02 THEN 'cancelled' ELSE 'dispatched' END AS status,
               u1 >= 0.02 AND u2 < CASE WHEN t.bseq = 4 THEN 0.88 ELSE 0.97 END AS done,
               u1 >= 0.02 AND u2 >= CASE WHEN t.bseq = 4 THEN 0.88 ELSE 0.97 END
                   AND u2 < CASE WHEN t.bseq = 4 THEN 0.94 ELSE 0.985 END AS started,
               CASE WHEN u3 < 0.955 THEN 'completed' WHEN u3 < 0.975 THEN 'non_cooperation'
                    WHEN u3 < 0.99 THEN 'closed' ELSE 'not_found' END AS outcome,
               CASE WHEN u4 < CASE WHEN t.bseq = 4 THEN 0.62 ELSE 0.88 END THEN 'approved'
                    WHEN u4 < CASE WHEN t.bseq = 4 THEN 0.90 ELSE 0.95 END THEN 'submitted' ELSE 'returned' END AS review,
               (b.window_start + (u5 * (b.window_end - b.window_start))::int)::timestamp AT TIME ZONE 'Asia/Shanghai'
                   + make_interval(hours => 9 + (u6 * 8)::int, mins => (u6 * 600)::int % 60) AS completed_at,
               s.m1, s.m2
        FROM (SELECT bt.*, row_number() OVER () AS k, random() AS u1, random() AS u2, random() AS u3, random() AS u4,
                     random() AS u5, random() AS u6, random() AS u7 FROM bench_t bt) t
        JOIN bench_batch b ON b.bseq = t.bseq
        JOIN enterprise e ON e.id = t.enterprise_id
        JOIN bench_ind ig ON ig.industry = e.industry
        CROSS JOIN LATERAL (SELECT (SELECT min(id) FROM inspector) + (2 * (t.k % (:n / 2)))::int AS m1,
                                   (SELECT min(id) FROM inspector) + (2 * (t.k % (:n / 2)) + 1)::int AS m2) s""",
        n=n_insp)
    sql("""
        INSERT INTO task (batch_id, draw_pk, enterprise_id, uscc, kind, basis, status, enterprise, items, checklists,
                          method, start_date, due_date, publication_days, unstaffed_reason, dispatched_at, cancelled_at,
                          cancel_reason, completed_at, review_state, review_comment, reviewed_at, reviewed_by)
        SELECT t.batch_id, t.draw_pk, e.id, e.uscc, 'random', t.basis, t.status,
               json_build_object('name', e.name, 'uscc', e.uscc, 'address', e.address, 'region_code', r.code,
                                 'region', r.name, 'industry', e.industry, 'legal_rep', e.legal_rep, 'phone', e.phone,
                                 'lat', e.lat, 'lng', e.lng,
                                 'flags', to_json(array_remove(ARRAY[
                                     CASE WHEN e.key_supervision THEN 'key_supervision' END,
                                     CASE WHEN e.dust_explosion THEN 'dust_explosion' END,
                                     CASE WHEN e.confined_space THEN 'confined_space' END,
                                     CASE WHEN e.major_hazard THEN 'major_hazard' END,
                                     CASE WHEN e.blacklisted THEN 'blacklisted' END], NULL))),
               g.items, g.checklists, 'onsite', t.window_start, t.window_end, 20,
               CASE WHEN t.status = 'unstaffed' THEN '无具备资质且无需回避的检查人员' ELSE '' END,
               t.window_start::timestamp AT TIME ZONE 'Asia/Shanghai' - interval '2 days',
               CASE WHEN t.status = 'cancelled' THEN t.window_start::timestamp AT TIME ZONE 'Asia/Shanghai' END,
               CASE WHEN t.status = 'cancelled' THEN '企业已注销' ELSE '' END,
               CASE WHEN t.done THEN t.completed_at END,
               CASE WHEN NOT t.done THEN 'open' ELSE t.review END,
               CASE WHEN t.done AND t.review = 'returned' THEN '请补充现场照片并核对隐患描述' ELSE '' END,
               CASE WHEN t.done AND t.review IN ('approved', 'returned') THEN t.completed_at + interval '2 days' END,
               CASE WHEN t.done AND t.review IN ('approved', 'returned') THEN (SELECT id FROM user_account
                                                                           WHERE username = 'teamlead') END
        FROM bench_task t JOIN enterprise e ON e.id = t.enterprise_id JOIN region r ON r.id = e.region_id
        JOIN bench_grp g ON g.grp = t.grp""")
    sql("ALTER TABLE bench_task ADD COLUMN task_id int")
    sql("UPDATE bench_task b SET task_id = t.id FROM task t WHERE t.batch_id = b.batch_id "
        "AND t.enterprise_id = b.enterprise_id AND t.kind = 'random'")
    sql("CREATE INDEX ON bench_task (task_id)")
    sql("ANALYZE bench_task")
    sql("ANALYZE task")
    sql("""
        INSERT INTO task_member (task_id, inspector_id, position, active, left_reason)
        SELECT task_id, m1, 0, true, '' FROM bench_task WHERE status = 'dispatched'
        UNION ALL SELECT task_id, m2, 1, true, '' FROM bench_task WHERE status = 'dispatched'
        UNION ALL SELECT task_id, m2 + 2, 2, false, '病假，按公布的顺序替换' FROM bench_task
            WHERE status = 'dispatched' AND u7 < 0.01""")


def records(batch_hazards: dict[int, int], today: date) -> None:
    """The phones' records as /api/v1/sync stores them (merge keys in ``question``), then the register."""
    common = """content_hash, user_id, inspector_id, device_time, received_at, reassigned, conflict, superseded,
                revision, edit_id"""
    # who sent it: the first member's account
    sql("ALTER TABLE bench_task ADD COLUMN uid int")
    sql("UPDATE bench_task b SET uid = u.id FROM user_account u WHERE u.inspector_id = b.m1")
    sql("UPDATE bench_task b SET uid = (SELECT id FROM user_account WHERE username = 'teamlead') WHERE uid IS NULL")
    worked = "t.status = 'dispatched' AND (t.done OR t.started)"
    sql(f"""
        INSERT INTO sync_record (uuid, kind, task_id, question, data, {common})
        SELECT gen_random_uuid()::text, 'checkin', t.task_id, NULL,
               json_build_object('lat', 35.4 + t.u6 * 0.3, 'lng', 112.7 + t.u7 * 0.3, 'accuracy_m', 12.0),
               md5(t.task_id::text || m.m), u.id, m.m, t.completed_at - interval '3 hours',
               t.completed_at - interval '3 hours', false, false, false, 1, NULL
        FROM bench_task t CROSS JOIN LATERAL (VALUES (t.m1), (t.m2)) m(m)
        JOIN user_account u ON u.inspector_id = m.m WHERE {worked}""")
    sql("SELECT setseed(0.37)")
    sql(f"""
        INSERT INTO sync_record (uuid, kind, task_id, question, data, {common})
        SELECT gen_random_uuid()::text, 'answer', t.task_id, q.qid,
               json_build_object('question', q.qid, 'checklist', q.checklist, 'result', a.result,
                                 'value', NULL, 'note', CASE WHEN a.result = 'no' THEN '现场发现问题，已拍照' ELSE '' END,
                                 'photos', '[]'::json),
               md5(t.task_id::text || q.qid), t.uid, t.m1, t.completed_at - interval '1 hour',
               t.completed_at - interval '1 hour', false, false, false, 1, NULL
        FROM bench_task t JOIN bench_q q ON q.grp = t.grp
        CROSS JOIN LATERAL (SELECT CASE WHEN r < 0.35 THEN 'no' WHEN r < 0.40 THEN 'na' ELSE 'yes' END AS result
                            FROM (SELECT random() + 0 * q.seq AS r) x) a
        WHERE {worked} AND (t.done AND t.outcome = 'completed' OR t.started AND q.seq <= 6)""")
    sql(f"""
        INSERT INTO sync_record (uuid, kind, task_id, question, data, {common})
        SELECT gen_random_uuid()::text, 'outcome', t.task_id, 'outcome',
               json_build_object('outcome', t.outcome, 'reason', CASE WHEN t.outcome = 'non_cooperation'
                                 THEN 'refused_entry' END, 'note', '',
                                 'submitted_at', to_char(t.completed_at, 'YYYY-MM-DD"T"HH24:MI:SS+00:00')),
               md5(t.task_id::text || 'outcome'), t.uid, t.m1, t.completed_at, t.completed_at,
               false, false, false, CASE WHEN t.review = 'returned' THEN 2 ELSE 1 END, NULL
        FROM bench_task t WHERE t.status = 'dispatched' AND t.done""")
    sql(f"""
        INSERT INTO sync_record (uuid, kind, task_id, question, data, {common})
        SELECT gen_random_uuid()::text, 'signature', t.task_id,
               CASE WHEN s.role = 'enterprise' THEN 'signature:enterprise' END,
               json_build_object('role', s.role, 'name', CASE WHEN s.role = 'enterprise' THEN '企业负责人' ELSE '检查员' END,
                                 'inspector_id', s.insp, 'refused', t.outcome <> 'completed' AND s.role = 'enterprise',
                                 'image', CASE WHEN t.outcome = 'completed' OR s.role <> 'enterprise'
                                          THEN md5(t.task_id::text || s.role) || md5(s.role || t.task_id::text) END),
               md5(t.task_id::text || s.role || coalesce(s.insp, 0)), t.uid, t.m1, t.completed_at - interval '5 minutes',
               t.completed_at - interval '5 minutes', false, false, false, 1, NULL
        FROM bench_task t CROSS JOIN LATERAL (VALUES ('enterprise', NULL::int), ('inspector', t.m1),
                                                     ('inspector', t.m2)) s(role, insp)
        WHERE t.status = 'dispatched' AND t.done""")
    # Hazards: from the failed answers of each batch, as many as asked (several per failed question).
    sql("""CREATE TABLE bench_h (uuid text, task_id int, batch_id int, enterprise_id int, question text, grade text,
                                 status text, deadline date, created_at timestamptz, closed_at timestamptz,
                                 escalation text, supervised boolean, rectified boolean, uid int, m1 int, bseq int)""")
    for batch_id, n in batch_hazards.items():
        sql("SELECT setseed(0.41)")
        sql("""
            WITH no AS (SELECT r.task_id, r.question, row_number() OVER (ORDER BY r.task_id, r.question) - 1 AS k
                        FROM sync_record r JOIN bench_task t ON t.task_id = r.task_id
                        WHERE t.batch_id = :b AND r.kind = 'answer' AND r.data->>'result' = 'no'),
                 n AS (SELECT count(*) AS n FROM no)
            INSERT INTO bench_h
            SELECT gen_random_uuid()::text, no.task_id, :b, t.enterprise_id, no.question,
                   CASE WHEN x.g < 0.08 THEN 'major' ELSE 'general' END,
                   CASE WHEN t.bseq = 4 THEN
                            CASE WHEN x.s < 0.35 THEN 'closed' WHEN x.s < 0.45 THEN 'awaiting_review'
                                 WHEN x.s < 0.70 THEN 'rectifying' ELSE 'pending' END
                        ELSE CASE WHEN x.s < 0.78 THEN 'closed' WHEN x.s < 0.83 THEN 'awaiting_review'
                                  WHEN x.s < 0.92 THEN 'rectifying' ELSE 'pending' END END,
                   (t.completed_at AT TIME ZONE 'Asia/Shanghai')::date
                       + CASE WHEN x.g < 0.08 THEN 60 ELSE 15 + (x.d * 30)::int END,
                   t.completed_at, NULL, CASE WHEN x.e < 0.015 THEN 'case' WHEN x.e < 0.02 THEN 'transfer' END,
                   x.g < 0.04, NULL, t.uid, t.m1, t.bseq
            FROM generate_series(0, :n - 1) h CROSS JOIN n
            JOIN no ON no.k = h % n.n
            JOIN bench_task t ON t.task_id = no.task_id
            CROSS JOIN LATERAL (SELECT random() + 0 * h AS g, random() AS s, random() AS d, random() AS e) x""",
            b=batch_id, n=n)
    sql("CREATE INDEX ON bench_h (task_id)")
    sql("ANALYZE bench_h")
    sql("ANALYZE sync_record")
    sql(f"""
        INSERT INTO sync_record (uuid, kind, task_id, question, data, {common})
        SELECT h.uuid, 'hazard', h.task_id, NULL,
               json_build_object('question', h.question, 'grade', h.grade,
                                 'description', CASE WHEN h.grade = 'major' THEN '涉爆粉尘作业场所未按规定设置泄爆装置'
                                                     ELSE '安全警示标志缺失，消防通道堆放杂物' END,
                                 'deadline', h.deadline::text, 'photos', '[]'::json),
               md5(h.uuid), h.uid, h.m1, h.created_at - interval '30 minutes', h.created_at - interval '30 minutes',
               false, false, false, 1, NULL
        FROM bench_h h""")


def register(today: date) -> None:
    """The hazard register rows, re-inspections with their closures, events, feedback and results."""
    lead = scalar("SELECT id FROM user_account WHERE username = 'lead'")
    # Re-inspections: one per approved task whose hazards went to re-inspection (awaiting review or closed,
    # and some not rectified).
    sql("""
        CREATE TABLE bench_re AS
        SELECT t.task_id AS origin, t.batch_id, t.draw_pk, t.enterprise_id, t.m1, t.m2, t.uid,
               (max(h.created_at) + interval '25 days') AS done_at
        FROM bench_task t JOIN bench_h h ON h.task_id = t.task_id
        WHERE t.review = 'approved' AND h.status IN ('closed', 'awaiting_review')
        GROUP BY t.task_id, t.batch_id, t.draw_pk, t.enterprise_id, t.m1, t.m2, t.uid
        HAVING max(h.created_at) + interval '25 days' < now()""")
    sql("""
        INSERT INTO task (batch_id, draw_pk, enterprise_id, uscc, kind, basis, status, enterprise, items, checklists,
                          method, start_date, due_date, publication_days, unstaffed_reason, dispatched_at,
                          cancel_reason, completed_at, review_state, review_comment, reviewed_at, reviewed_by,
                          origin_task_id)
        SELECT o.batch_id, o.draw_pk, o.enterprise_id, o.uscc, 'reinspection', 'reinspection', 'dispatched', o.enterprise,
               o.items, '[]'::json, 'onsite', (r.done_at - interval '5 days')::date, (r.done_at + interval '5 days')::date,
               20, '', r.done_at - interval '5 days', '', r.done_at,
               CASE WHEN r.done_at < now() - interval '3 days' THEN 'approved' ELSE 'submitted' END, '',
               CASE WHEN r.done_at < now() - interval '3 days' THEN r.done_at + interval '1 day' END,
               CASE WHEN r.done_at < now() - interval '3 days' THEN (SELECT id FROM user_account
                                                                     WHERE username = 'teamlead') END, r.origin
        FROM bench_re r JOIN task o ON o.id = r.origin""")
    sql("ALTER TABLE bench_re ADD COLUMN task_id int")
    sql("UPDATE bench_re r SET task_id = t.id FROM task t WHERE t.origin_task_id = r.origin")
    sql("ANALYZE bench_re")
    sql("""INSERT INTO task_member (task_id, inspector_id, position, active, left_reason)
           SELECT task_id, m1, 0, true, '' FROM bench_re UNION ALL SELECT task_id, m2, 1, true, '' FROM bench_re""")
    common = "content_hash, user_id, inspector_id, device_time, received_at, reassigned, conflict, superseded, revision"
    sql(f"""
        INSERT INTO sync_record (uuid, kind, task_id, question, data, {common})
        SELECT gen_random_uuid()::text, 'outcome', r.task_id, 'outcome', json_build_object('outcome', 'completed'),
               md5(r.task_id::text), r.uid, r.m1, r.done_at, r.done_at, false, false, false, 1
        FROM bench_re r""")
    sql("ALTER TABLE bench_h ADD COLUMN re_task int, ADD COLUMN closure text")
    sql("""UPDATE bench_h h SET re_task = r.task_id, closure = gen_random_uuid()::text,
                  rectified = h.status = 'closed' OR random() < 0.7
           FROM bench_re r WHERE r.origin = h.task_id AND h.status IN ('closed', 'awaiting_review')""")
    # Nobody re-inspected it (not yet approved, or too recent): still the enterprise's to rectify.
    sql("UPDATE bench_h SET status = 'rectifying' WHERE status IN ('closed', 'awaiting_review') AND re_task IS NULL")
    sql("""UPDATE bench_h h SET closed_at = least(r.done_at + interval '2 days', now() - interval '1 hour')
           FROM bench_re r WHERE r.task_id = h.re_task AND h.status = 'closed'""")
    sql(f"""
        INSERT INTO sync_record (uuid, kind, task_id, question, data, {common})
        SELECT h.closure, 'closure', h.re_task, 'closure:' || h.uuid,
               json_build_object('hazard', h.uuid, 'rectified', h.rectified, 'note', '', 'photos', '[]'::json),
               md5(h.closure), h.uid, h.m1, r.done_at, r.done_at, false, false, false, 1
        FROM bench_h h JOIN bench_re r ON r.task_id = h.re_task""")
    sql("""
        INSERT INTO hazard (record_uuid, task_id, batch_id, enterprise_id, enterprise_name, region, industry, question,
                            grade, description, deadline, status, reinspection_task_id, closure_uuid, rectified, note,
                            created_at, closed_at, closed_by, plan, supervised_at, supervised_by, escalation)
        SELECT h.uuid, h.task_id, h.batch_id, h.enterprise_id, t.enterprise->>'name', t.enterprise->>'region',
               t.enterprise->>'industry', h.question, h.grade,
               CASE WHEN h.grade = 'major' THEN '涉爆粉尘作业场所未按规定设置泄爆装置' ELSE '安全警示标志缺失，消防通道堆放杂物' END,
               h.deadline, h.status, h.re_task, h.closure, h.rectified, '', h.created_at, h.closed_at,
               CASE WHEN h.closed_at IS NOT NULL THEN :lead END,
               CASE WHEN h.grade = 'major' THEN json_build_object('goal', '消除隐患', 'measures', '停产整改，增设泄爆装置',
                    'funds', '20万元', 'people', '企业主要负责人', 'deadline', h.deadline::text, 'safety', '划定警戒区') END,
               CASE WHEN h.supervised THEN h.created_at + interval '3 days' END,
               CASE WHEN h.supervised THEN '县安委会办公室' ELSE '' END, h.escalation
        FROM bench_h h JOIN task t ON t.id = h.task_id""", lead=lead)
    sql("""
        INSERT INTO hazard_event (hazard_id, kind, data, by, at)
        SELECT h.id, e.kind, e.data, :lead, h.created_at + e.after
        FROM hazard h CROSS JOIN LATERAL (VALUES
            ('plan', json_build_object('goal', '消除隐患'), interval '5 days', h.grade = 'major'),
            ('supervise', json_build_object('by', h.supervised_by), interval '3 days', h.supervised_at IS NOT NULL),
            ('escalate', json_build_object('kind', h.escalation, 'to', '县应急管理局', 'reason', '逾期未整改'),
             interval '40 days', h.escalation IS NOT NULL),
            ('extend', json_build_object('from', h.deadline::text, 'to', (h.deadline + 15)::text, 'reason', '设备采购周期长'),
             interval '10 days', h.id % 50 = 0)) e(kind, data, after, applies)
        WHERE e.applies""", lead=lead)
    sql("ANALYZE hazard")
    sql("ANALYZE bench_h")
    # R19: the enterprise told within 7 working days (most, some late, some never).
    sql("""
        INSERT INTO feedback (task_id, given_on, way, note, recorded_by, recorded_at)
        SELECT t.task_id, (t.completed_at AT TIME ZONE 'Asia/Shanghai')::date + (CASE WHEN t.u7 < 0.85 THEN t.u6 * 6
                                                                                 ELSE 10 + t.u6 * 10 END)::int,
               CASE WHEN t.u6 < 0.8 THEN 'on_site' ELSE 'post' END, '', t.uid, t.completed_at + interval '1 day'
        FROM bench_task t WHERE t.status = 'dispatched' AND t.done AND t.u7 < 0.95
        UNION ALL  -- a re-inspection ends with the enterprise told too (R19)
        SELECT r.task_id, (r.done_at AT TIME ZONE 'Asia/Shanghai')::date + (r.task_id % 9), 'on_site', '', r.uid,
               r.done_at + interval '1 day'
        FROM bench_re r WHERE r.task_id % 20 <> 0""")
    # R20: approved results published within 20 working days (most), some late, some not yet.
    sql("""
        INSERT INTO published_result (task_id, version, current, category, enterprise_name, uscc, region, batch_id,
                                      batch_title, year, inspected_on, hazards_found, hazards_closed, reason,
                                      published_at, published_by)
        SELECT t.task_id, 1, true,
               CASE t.outcome WHEN 'non_cooperation' THEN 'non_cooperation' WHEN 'closed' THEN 'closed'
                              WHEN 'not_found' THEN 'unreachable'
                              ELSE CASE WHEN coalesce(h.found, 0) = 0 THEN 'no_problem'
                                        WHEN h.found = h.closed THEN 'corrected' ELSE 'pending' END END,
               e.name, e.uscc, r.name, t.batch_id, b.title, p.year,
               (t.completed_at AT TIME ZONE 'Asia/Shanghai')::date, coalesce(h.found, 0), coalesce(h.closed, 0), '',
               t.completed_at + make_interval(days => CASE WHEN t.u6 < 0.85 THEN 3 + (t.u7 * 20)::int
                                                            ELSE 30 + (t.u7 * 20)::int END), :lead
        FROM bench_task t JOIN enterprise e ON e.id = t.enterprise_id JOIN region r ON r.id = e.region_id
        JOIN batch b ON b.id = t.batch_id JOIN plan p ON p.id = b.plan_id
        LEFT JOIN (SELECT task_id, count(*) AS found, count(*) FILTER (WHERE status = 'closed') AS closed
                   FROM bench_h GROUP BY task_id) h ON h.task_id = t.task_id
        WHERE t.status = 'dispatched' AND t.done AND t.review = 'approved' AND t.u7 < 0.93
          AND t.completed_at + make_interval(days => CASE WHEN t.u6 < 0.85 THEN 3 + (t.u7 * 20)::int
                                                          ELSE 30 + (t.u7 * 20)::int END) < now()""", lead=lead)


FIGURES = {
    "enterprises": "SELECT count(*) FROM enterprise",
    "year_tasks": "SELECT count(*) FROM task",
    "year_random_tasks": "SELECT count(*) FROM task WHERE kind = 'random'",
    "batch_tasks": "SELECT count(*) FROM task WHERE batch_id = :b",
    "batch_random_tasks": "SELECT count(*) FROM task WHERE batch_id = :b AND kind = 'random'",
    "batch_hazards": "SELECT count(*) FROM hazard WHERE batch_id = :b",
    "year_hazards": "SELECT count(*) FROM hazard",
    "sync_records": "SELECT count(*) FROM sync_record",
    "published_results": "SELECT count(*) FROM published_result",
    "feedback": "SELECT count(*) FROM feedback",
}


def vacuum_analyze() -> None:
    """What autovacuum does on a live server after bulk inserts (the test server runs with it off): the
    statistics, and the visibility map that index-only scans need (e.g. ix_hazard_batch_id_status for the
    earlier batches' hazard counts). This schema's tables only, outside a transaction."""
    from sqlalchemy import text

    from webapp.extensions import db
    db.session.commit()
    t0 = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars().all()
        conn.execute(text("VACUUM ANALYZE " + ", ".join(f'"{t}"' for t in tables)))
    log(f"  vacuum analyze {len(tables)} tables {time.perf_counter() - t0:6.1f} s")


def load(app, args) -> dict:
    from webapp.db_types import today_shanghai
    from webapp.extensions import db

    t0 = time.perf_counter()
    today = today_shanghai()
    with app.app_context():
        users = registries(args.enterprises, args.inspectors)
        plan_id, year, batch_ids = plan_and_batches(args.year_tasks, today)
        tasks(args.year_tasks, batch_ids, today)
        # The measured batch (the last) gets --hazards; the others the same density per task.
        per_task = args.hazards / args.tasks
        counts = {b: round(per_task * scalar("SELECT count(*) FROM bench_task WHERE batch_id = :b", b=b))
                  for b in batch_ids}
        counts[batch_ids[-1]] = args.hazards
        records(counts, today)
        register(today)
        for t in ("bench_grp", "bench_ind", "bench_q", "bench_pick", "bench_t", "bench_batch", "bench_task", "bench_h",
                  "bench_re"):
            sql(f"DROP TABLE {t}")
        vacuum_analyze()
        figures = {k: scalar(q, b=batch_ids[-1]) for k, q in FIGURES.items()}
        db.session.commit()
    figures["load_s"] = round(time.perf_counter() - t0, 1)
    log(f"loaded: {figures}")
    return {"plan_id": plan_id, "batch_ids": batch_ids, "users": users, "year": year, "figures": figures}


@contextmanager
def query_times(label: str, top: int = 8):
    """With --profile: each SQL statement's time while the block runs, the slowest printed to stderr."""
    from sqlalchemy import event

    from webapp.extensions import db
    spent, starts = {}, []

    def before(conn, cursor, statement, params, context, many):
        starts.append(time.perf_counter())

    def after(conn, cursor, statement, params, context, many):
        key = " ".join(statement.split())
        n, t = spent.get(key, (0, 0.0))
        spent[key] = (n + 1, t + time.perf_counter() - starts.pop())
    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    t0 = time.perf_counter()
    try:
        yield spent
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        wall = (time.perf_counter() - t0) * 1000
        total = sum(t for _n, t in spent.values()) * 1000
        log(f"profile {label}: {wall:.0f} ms wall, {total:.0f} ms in {sum(n for n, _t in spent.values())} statements")
        for key, (n, t) in sorted(spent.items(), key=lambda kv: -kv[1][1])[:top]:
            log(f"   {t * 1000:8.1f} ms  x{n:<4} {key[:600]}")


def _timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up: caches, prepared plans, templates
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _cpu_timed(fn, repeat: int) -> list[float]:
    """CPU milliseconds per run: this process plus its PostgreSQL backend (read from /proc; the server is local),
    with parallel query off so that no worker process escapes the count. On a machine other work keeps busy,
    wall times stretch with the load; CPU time is roughly what the run costs on an idle one (single core)."""
    from sqlalchemy import text

    from webapp.extensions import db
    tick = os.sysconf("SC_CLK_TCK")
    db.session.execute(text("SET max_parallel_workers_per_gather = 0"))
    backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar()

    def server_cpu() -> float:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    fn()
    out = []
    for _ in range(repeat):
        p0, s0 = time.process_time(), server_cpu()
        fn()
        out.append((time.process_time() - p0 + server_cpu() - s0) * 1000)
    db.session.execute(text("RESET max_parallel_workers_per_gather"))
    return out


def _stats(name: str, values: list[float], unit: str = "ms") -> dict:
    values = sorted(values)
    log(f"{name}: median {statistics.median(values):.1f} {unit}, max {values[-1]:.1f} {unit} "
        f"({', '.join(f'{v:.0f}' for v in values)})")
    return {f"{name}_{unit}": round(statistics.median(values), 1), f"{name}_max_{unit}": round(values[-1], 1)}


def _login(app, username: str):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code in (302, 303), (username, resp.status_code)
    return client


def _page(client, url: str):
    def get():
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
    return get


def measure(app, ctx: dict, args) -> dict:
    from flask import g

    from webapp.auth.models import User
    from webapp.brigade.compliance import year_compliance
    from webapp.brigade.stats import batch_summary
    from webapp.draws.models import Batch
    from webapp.extensions import db

    batch_id, year, out = ctx["batch_ids"][-1], ctx["year"], {}
    with app.test_request_context("/"):  # the dashboard builds its links with url_for
        g.audit_actor = "benchmark"
        batch = db.session.get(Batch, batch_id)
        team = db.session.get(User, ctx["users"]["teamlead"])
        summary = batch_summary(batch)
        log(f"batch_summary: tasks {summary['tasks']} hazards {summary['hazards']}")
        if args.profile:
            with query_times("batch_summary"):
                batch_summary(batch)
            with query_times("year_compliance"):
                year_compliance(year)
        out.update(_stats("summary", _timed(lambda: batch_summary(batch), args.repeat)))
        out.update(_stats("summary_team_lead", _timed(lambda: batch_summary(batch, user=team), args.repeat)))
        rules = year_compliance(year)["rules"]
        log("year_compliance: " + "; ".join(f"{r['id']} ok={r['ok']} shortfall={r.get('shortfall')}" for r in rules))
        out.update(_stats("dashboard", _timed(lambda: year_compliance(year), args.repeat)))
        if Path("/proc/self/stat").exists() and db.engine.dialect.name == "postgresql":
            try:
                out.update(_stats("summary_cpu", _cpu_timed(lambda: batch_summary(batch), args.repeat)))
                out.update(_stats("dashboard_cpu", _cpu_timed(lambda: year_compliance(year), args.repeat)))
            except OSError as exc:  # the server is not on this machine
                log(f"no CPU times: {exc}")
        out["load_average"] = round(os.getloadavg()[0], 1)
        db.session.remove()
    lead, office = _login(app, "lead"), _login(app, "office")
    out.update(_stats("summary_page", _timed(_page(lead, f"/brigade/batches/{batch_id}"), args.repeat)))
    out.update(_stats("summary_page_team_lead", _timed(_page(_login(app, "teamlead"), f"/brigade/batches/{batch_id}"),
                                                       args.repeat)))
    out.update(_stats("dashboard_page", _timed(_page(office, f"/brigade/dashboard?year={year}"), args.repeat)))
    out.update(export(app, year, args.export_repeat, args.profile))
    return out


def export(app, year: int, repeat: int, profile: bool = False) -> dict:
    """The year's XLSX, run as a worker runs it (enqueue, claim, run_job) in a fresh interpreter each time."""
    runs = []
    for k in range(repeat):
        child = subprocess.run([sys.executable, __file__, "--export-child", str(year)]
                               + (["--profile"] if profile and k == 0 else []), capture_output=True, text=True,
                               env={**os.environ, "BENCH_CHILD_DB": app.config["SQLALCHEMY_DATABASE_URI"],
                                    "BENCH_CHILD_FOLDER": app.config["UPLOAD_FOLDER"]})
        if child.returncode != 0:
            raise SystemExit("export child failed:\n" + child.stderr[-3000:])
        if profile and k == 0:
            print("\n".join(line for line in child.stderr.splitlines() if "profile" in line or "ms  x" in line),
                  file=sys.stderr)
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        log(f"export run {k + 1}: {runs[-1]}")
    seconds = sorted(r["seconds"] for r in runs)
    return {"export_s": round(statistics.median(seconds), 2), "export_max_s": round(seconds[-1], 2),
            "export_cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
            "export_peak_mb": round(max(r["peak_mb"] for r in runs), 1),
            "export_baseline_mb": round(max(r["baseline_mb"] for r in runs), 1),
            "export_file_mb": runs[-1]["file_mb"], "export_rows": runs[-1]["rows"], "export_runs": len(runs),
            "export_memory": "peak RSS of the child process (getrusage ru_maxrss), interpreter and app included"}


def export_child(year: int, profile: bool = False) -> None:
    """In a fresh interpreter: queue the year's XLSX for the brigade lead and run it as a worker would."""
    import resource

    from flask import g
    from sqlalchemy import select

    from webapp import create_app
    from webapp.auth.models import User
    from webapp.extensions import db
    from webapp.jobs import runner
    from webapp.jobs.models import Job

    folder = os.environ["BENCH_CHILD_FOLDER"]
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["BENCH_CHILD_DB"], "SECRET_KEY": "bench",
                      "UPLOAD_FOLDER": folder, "EXPORT_FOLDER": f"{folder}/exports", "JOBS_IN_WEB": False})
    with app.app_context():
        g.audit_actor = "benchmark"
        lead = db.session.scalar(select(User).where(User.username == "lead"))
        # A job left by an interrupted earlier run (kept schema) would be claimed before ours.
        db.session.execute(db.delete(Job).where(Job.state.in_(("queued", "running"))))
        db.session.commit()
        job = runner.enqueue("year_xlsx", {"year": year}, lead)
        claimed = runner.claim()
        assert claimed is not None and claimed.id == job.id
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with (query_times("export", top=12) if profile else contextmanager(lambda: iter([None]))()):
            t0, c0 = time.perf_counter(), time.process_time()
            done = runner.run_job(claimed)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert done.state == "done", (done.state, done.error)
        path = runner.export_folder() / done.file_path
        size = path.stat().st_size
        db.session.execute(db.delete(Job).where(Job.id == done.id))  # the next run queues it afresh
        db.session.commit()
    # Outside the measurement: the rows of each sheet, counted in the file's XML (streamed; loading the workbook
    # with openpyxl would take longer than the export).
    import re
    import zipfile
    rows = {}
    with zipfile.ZipFile(path) as zf:
        names = re.findall(r'<sheet [^>]*name="([^"]+)"', zf.read("xl/workbook.xml").decode())
        for k, name in enumerate(names, 1):
            count, tail = 0, b""
            with zf.open(f"xl/worksheets/sheet{k}.xml") as f:
                while chunk := f.read(1 << 20):
                    count += (tail + chunk).count(b"<row ") - tail.count(b"<row ")
                    tail = chunk[-8:]
            rows[name] = count
    path.unlink()
    print(json.dumps({"seconds": round(seconds, 3), "cpu_s": round(cpu, 2), "peak_mb": round(peak, 1), "baseline_mb": round(baseline, 1),
                      "file_mb": round(size / 1e6, 2), "rows": rows}, ensure_ascii=False))


@contextmanager
def kept_schema(database_url: str, schema: str):
    """An app on a named schema that outlives the run (for measuring again without loading again)."""
    import tempfile

    import flask_migrate
    from flask import g
    from sqlalchemy import create_engine, text

    from webapp import create_app
    from webapp.config import normalise_db_url
    base = normalise_db_url(database_url)
    with create_engine(base, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "UPLOAD_FOLDER": tempfile.mkdtemp(),
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        g.audit_actor = "benchmark"
    yield app


def loaded(app) -> dict | None:
    """What ``load`` returned, read back from a kept schema that holds the data already."""
    from sqlalchemy import text

    from webapp.extensions import db
    with app.app_context():
        plan = scalar("SELECT max(id) FROM plan")
        if plan is None:
            return None
        log(f"schema already loaded (plan {plan}): measuring only")
        batch_ids = list(db.session.scalars(text("SELECT id FROM batch WHERE plan_id = :p ORDER BY seq"), {"p": plan}))
        users = {u: scalar("SELECT id FROM user_account WHERE username = :u", u=u) for u in ("lead", "office", "teamlead")}
        figures = {k: scalar(q, b=batch_ids[-1]) for k, q in FIGURES.items()}
        db.session.commit()
        return {"plan_id": plan, "batch_ids": batch_ids, "users": users, "figures": figures,
                "year": scalar("SELECT year FROM plan WHERE id = :p", p=plan)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000, help="random tasks of the measured batch (default 5,000)")
    parser.add_argument("--hazards", type=int, default=50_000, help="hazards of the measured batch (default 50,000)")
    parser.add_argument("--year-tasks", type=int, default=None, help="random tasks of the year (default 4 x --tasks)")
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--inspectors", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--export-repeat", type=int, default=3, help="runs of the export (a child process each)")
    parser.add_argument("--only-load", action="store_true", help="build the data, print its figures, stop")
    parser.add_argument("--export-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="print the slowest SQL statements of each measurement")
    parser.add_argument("--schema", help="load into this PostgreSQL schema and keep it; a later run with the same "
                                         "name measures again without loading (drop it yourself afterwards)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    if args.export_child:
        export_child(args.export_child, args.profile)
        return
    args.year_tasks = args.year_tasks or 4 * args.tasks
    with (kept_schema(args.database_url, args.schema) if args.schema else bench_app(args.database_url or None)) as app:
        ctx = (loaded(app) if args.schema else None) or load(app, args)
        out = {"database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0], **ctx["figures"]}
        if not args.only_load:
            out.update(measure(app, ctx, args))
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
