"""The brigade's exports (issue #13 point 5), run as background jobs (webapp/jobs/runner.py).

- ``batch_xlsx``: a batch's tasks, results and hazards, one sheet each;
- ``year_xlsx``: the year's compliance (R5–R10, R19, R20) and every task of the year;
- ``batch_pdf``: the batch summary with its charts;
- ``year_pdf``: the annual report (the year's compliance and each batch's headline figures) with charts.

Workbooks are written with XlsxWriter in ``constant_memory`` mode (each row goes to disk as the next
begins; sheets are written one after the other, rows in order) while the rows stream from the database
in chunks (``yield_per``: a server-side cursor on PostgreSQL), so a year of tasks never sits in memory.
The translated words of the rows (phase, industry, status, grade…) are looked up once per job as plain
strings (``Words``), not per cell.
Every sheet has Chinese headers, column widths, a frozen header row and an A4 landscape print set-up
fitted to the page width with the header row repeated; numbers are numbers and dates are real dates
(Asia/Shanghai) with a date format. A team lead's export holds their groups' tasks only (task_scope).
"""
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from xlsxwriter import Workbook

from .. import roles as R
from ..auth.models import User
from ..db_types import SHANGHAI, today_shanghai
from ..draws.models import Batch, Plan
from ..extensions import db
from ..jobs.runner import job
from ..publication.models import CATEGORY_LABELS, PublishedResult
from ..registries.vocab import INDUSTRY_LABELS, METHOD_LABELS
from ..review.models import LABELS as REVIEW_LABELS
from ..review.models import Feedback, Hazard
from ..services import ServiceError
from ..sync.models import SyncRecord
from ..tasks import phase as task_phase
from ..tasks.models import Task, TaskMember
from ..tasks.policy import task_scope

CHUNK = 500
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
#: A cell's text starting with one of these is a formula to a spreadsheet program (formula injection).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
#: Who may export what (the routes check it too; the job checks again with the job's owner).
BATCH_ROLES = (R.ADMIN, R.BRIGADE_LEAD, R.TEAM_LEAD)
YEAR_ROLES = (R.ADMIN, R.BRIGADE_LEAD)


# --- who may ---------------------------------------------------------------------------------------

def owner(job_row) -> User:
    user = db.session.get(User, job_row.user_id) if job_row.user_id else None
    if user is None or not user.active:
        raise ServiceError(_("The account that asked for this export is no longer active."))
    return user


def batch_for(user, batch_id) -> Batch:
    """The batch, if ``user`` may export it (a team lead: any batch, narrowed to their groups' tasks)."""
    batch = db.session.get(Batch, int(batch_id)) if str(batch_id).isdigit() else None
    if batch is None:
        raise ServiceError(_("This batch does not exist."))
    if user.role not in BATCH_ROLES:
        raise ServiceError(_("You may not export this batch."))
    # As the summary page: only a drawn batch, and a team lead only one their groups worked in (no title,
    # window or plan of another batch reaches them through an export).
    from sqlalchemy import exists as _exists

    from ..draws.models import Draw
    drawn = db.session.scalar(select(_exists().where(Draw.batch_id == batch.id, Draw.state == "drawn")))
    if not drawn:
        raise ServiceError(_("This batch has not been drawn yet: there is nothing to export."))
    if user.role == R.TEAM_LEAD and not db.session.scalar(select(_exists(
            task_scope(user, select(Task.id)).where(Task.batch_id == batch.id)))):
        raise ServiceError(_("You may not export this batch."))
    return batch


def year_for(user, year) -> int:
    if user.role not in YEAR_ROLES:
        raise ServiceError(_("You may not export the year's figures."))
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not 2000 <= year <= 2099:
        raise ServiceError(_("Choose a year between 2000 and 2099."))
    return year


# --- writing sheets --------------------------------------------------------------------------------

def local(value):
    """A UTC instant as a naive Asia/Shanghai datetime (Excel has no time zones), or the date as is."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)
    return value


#: A date in a workbook is its day number since Excel's epoch with a date format (what ``write_datetime``
#: writes too, here without its per-cell conversion): day 1 is 1900-01-01 and, Excel counting a
#: 29 February 1900, every day from March 1900 on is counted from 1899-12-30.
EXCEL_EPOCH = date(1899, 12, 30).toordinal()


def excel_serial(value: datetime) -> float:
    """A naive datetime after 1900 as Excel's day number (the time as the day's fraction), computed in
    XlsxWriter's order (days from 1899-12-31 plus the fraction, then the leap day), so the same float."""
    return (value.toordinal() - EXCEL_EPOCH - 1 + (value.hour * 3600 + value.minute * 60 + value.second
                                                   + value.microsecond / 1e6) / 86400) + 1


class Book:
    """An XlsxWriter workbook in ``constant_memory`` mode, written to the job's temporary file (the runner
    moves it into place with ``os.replace`` once the job is done). Strings are never read as formulas,
    numbers or links: user text is written with ``write_string`` and these options say so again."""

    def __init__(self, progress):
        self.wb = Workbook(str(progress.path(".xlsx")), {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
            "strings_to_urls": False, "default_date_format": DATE})
        self.header = self.wb.add_format({"bold": True, "pattern": 1, "bg_color": "#DDE7F0", "text_wrap": True,
                                          "valign": "vcenter"})
        self.date = self.wb.add_format({"num_format": DATE})
        self.datetime = self.wb.add_format({"num_format": DATETIME})
        self.quoted = self.wb.add_format({"quote_prefix": True})

    def close(self) -> None:
        self.wb.close()


class Sheet:
    """A sheet with the set-up every export shares; rows are appended in order (constant_memory: a sheet is
    written to its end before the next one begins)."""

    def __init__(self, book: Book, title: str, columns: list[tuple[str, float]]):
        self.book = book
        self.ws = ws = book.wb.add_worksheet(title)
        self.rows = 0
        for k, (_header, width) in enumerate(columns):
            ws.set_column(k, k, width)
        ws.freeze_panes(1, 0)  # the header row stays in view
        ws.repeat_rows(0)  # … and is printed on every page
        ws.set_paper(9)  # A4
        ws.set_landscape()
        ws.fit_to_pages(1, 0)  # fitted to the page width, as many pages down as it takes
        ws.hide_gridlines(0)  # gridlines on screen and printed
        ws.set_margins(left=0.4, right=0.4)
        for k, (text, _width) in enumerate(columns):
            ws.write_string(0, k, text, book.header)

    def text(self, col: int, value: str) -> None:
        """Text that a spreadsheet would read as a formula (an enterprise named ``=HYPERLINK(…)``, a
        description ``+1…``, a name ``@…``): kept a string cell (``write_string``, never a formula) with
        Excel's quote prefix, so it shows as typed and stays text when the cell is edited."""
        self.ws.write_string(self.rows + 1, col, value, self.book.quoted)

    def append(self, values: list) -> None:
        ws, row, book = self.ws, self.rows + 1, self.book
        for col, value in enumerate(values):
            kind = type(value)
            if kind is str:
                if value:
                    self._string(row, col, value)
            elif value is None:
                continue
            elif kind is int or kind is float:
                ws.write_number(row, col, value)
            elif kind is datetime:
                if value.year > 1900:
                    ws.write_number(row, col, excel_serial(value), book.datetime)
                else:
                    ws.write_datetime(row, col, value, book.datetime)
            elif kind is date:
                if value.year > 1900:
                    ws.write_number(row, col, value.toordinal() - EXCEL_EPOCH, book.date)
                else:
                    ws.write_datetime(row, col, value, book.date)
            elif isinstance(value, str):  # a str subclass (Markup…): text all the same
                if value:
                    self._string(row, col, str(value))
            else:
                ws.write(row, col, value)
        self.rows += 1

    def _string(self, row: int, col: int, value: str) -> None:
        # Control characters XML cannot hold (a stray \x01 from a phone) are written by XlsxWriter as Excel's
        # own _xHHHH_ escape in constant_memory's inline strings: the file stays valid and nothing is lost.
        if value.startswith(FORMULA_LEADS):
            self.ws.write_string(row, col, value, self.book.quoted)
        else:
            self.ws.write_string(row, col, value)


def _yes(value: bool) -> str:
    return _("Yes") if value else _("No")


def _save(wb: Book, progress) -> None:
    wb.close()  # the file at progress.path(".xlsx"), named when the workbook was opened


class QuestionTexts:
    """Question id → text of the checklist versions tasks cite, loaded once per version."""

    def __init__(self):
        self.versions: dict[int, dict] = {}

    def text(self, checklists, question) -> str:
        from ..checklists.models import ChecklistVersion
        if not question:
            return ""
        for ref in checklists or []:
            vid = ref.get("id")
            if vid not in self.versions:
                version = db.session.get(ChecklistVersion, vid)
                self.versions[vid] = {q["id"]: q.get("text", "") for q in version.questions} if version else {}
            if question in self.versions[vid]:
                return self.versions[vid][question]
        return ""


class Words:
    """The words a row shows for its codes (phase, industry, method, basis, status, grade, outcome, category…),
    turned into plain strings once per job in the job's locale: a lazy string is translated anew each time
    it becomes text, which per cell cost about a third of a year's export."""

    def __init__(self):
        def plain(labels: dict) -> dict:
            return {k: str(v) for k, v in labels.items()}
        self.industry = plain(INDUSTRY_LABELS)
        self.method = plain(METHOD_LABELS)
        self.phase = plain(task_phase.LABELS)
        self.reinspection_phase = {**self.phase, **plain(task_phase.REINSPECTION_LABELS)}
        self.review = {group: plain(labels) for group, labels in REVIEW_LABELS.items()}
        self.category = plain(CATEGORY_LABELS)
        self.yes, self.no = _("Yes"), _("No")
        self._basis: dict = {}

    def basis(self, basis) -> str:
        """A draw basis in words (``task_phase.basis_label``), an unknown reason as written."""
        try:
            return self._basis[basis]
        except KeyError:
            words = self._basis[basis] = str(task_phase.basis_label(basis)[0])
            return words


TASK_COLUMNS = [("任务编号", 10), ("批次", 16), ("企业名称", 30), ("统一社会信用代码", 22), ("乡镇（街道）", 14),
                ("行业", 12), ("抽取依据", 22), ("检查方式", 10), ("检查组成员", 24), ("阶段", 16), ("是否逾期", 9),
                ("检查开始日期", 13), ("检查截止日期", 13), ("派发时间", 17), ("检查完成时间", 17), ("审核时间", 17),
                ("隐患数", 8)]


def _task_stream(stmt):
    """The tasks of ``stmt`` with their phase, in chunks: (rows, members by task id, hazard counts)."""
    # The enterprise's three fields read in SQL (->> / JSON_EXTRACT), not its whole JSON decoded per row.
    cols = stmt.with_only_columns(
        Task.id, Task.batch_id, Task.enterprise["name"].as_string().label("e_name"),
        Task.enterprise["region"].as_string().label("e_region"),
        Task.enterprise["industry"].as_string().label("e_industry"), Task.uscc, Task.basis, Task.method, Task.kind,
        Task.status, Task.start_date, Task.due_date, Task.dispatched_at, Task.completed_at, Task.reviewed_at,
        task_phase.expression().label("phase"), maintain_column_froms=True).order_by(Task.id)
    from ..registries.models import Inspector
    # A chunk's groups and hazard counts: the tasks of ``stmt`` with ids between the chunk's first and last
    # (rows come in id order). One statement text for every chunk (two bound ids), not an IN list of 500
    # parameters that the driver would parse anew each time.
    lo, hi = bindparam("lo"), bindparam("hi")
    chunk = stmt.with_only_columns(Task.id, maintain_column_froms=True).order_by(None).where(Task.id.between(lo, hi))
    members_q = (select(TaskMember.task_id, Inspector.name).join(Inspector, Inspector.id == TaskMember.inspector_id)
                 .where(TaskMember.task_id.between(lo, hi), TaskMember.task_id.in_(chunk),
                        TaskMember.active.is_(True)).order_by(TaskMember.position))
    hazards_q = (select(Hazard.task_id, func.count()).where(Hazard.task_id.between(lo, hi), Hazard.task_id.in_(chunk))
                 .group_by(Hazard.task_id))
    result = db.session.execute(cols.execution_options(yield_per=CHUNK, stream_results=True))
    for rows in result.partitions(CHUNK):
        bounds = {"lo": rows[0].id, "hi": rows[-1].id}
        members: dict[int, list[str]] = {}
        for task_id, name in db.session.execute(members_q, bounds):
            members.setdefault(task_id, []).append(name)
        hazards = dict(db.session.execute(hazards_q, bounds).all())
        yield rows, members, hazards


def _task_values(r, members, hazards, batches: dict, today: date, words: Words) -> list:
    industry = r.e_industry
    phase_words = (words.reinspection_phase if r.kind == "reinspection" else words.phase)[r.phase]
    overdue = r.status == "dispatched" and r.completed_at is None and r.due_date < today
    return [r.id, batches.get(r.batch_id, ""), r.e_name, r.uscc, r.e_region,
            words.industry.get(industry, industry or ""), words.basis(r.basis),
            words.method.get(r.method, r.method), "、".join(members.get(r.id, ())), phase_words,
            words.yes if overdue else words.no, r.start_date, r.due_date, local(r.dispatched_at),
            local(r.completed_at), local(r.reviewed_at), hazards.get(r.id, 0)]


def _batch_names(ids=None) -> dict:
    stmt = select(Batch.id, Plan.year, Batch.title).join(Plan, Plan.id == Batch.plan_id)
    return {i: f"{y}年{t}" for i, y, t in db.session.execute(stmt)}


RESULT_COLUMNS = [("任务编号", 10), ("企业名称", 30), ("统一社会信用代码", 22), ("检查情形", 18), ("已答检查项", 10),
                  ("符合", 8), ("不符合", 8), ("不涉及", 8), ("不符合的检查项", 50), ("审核", 14), ("退回意见", 24),
                  ("反馈日期", 12), ("反馈方式", 14), ("公示类别", 22), ("公示时间", 17)]

HAZARD_COLUMNS = [("隐患编号", 10), ("任务编号", 10), ("企业名称", 30), ("乡镇（街道）", 14), ("行业", 12),
                  ("隐患等级", 14), ("检查项", 40), ("隐患描述", 40), ("整改期限", 12), ("状态", 16),
                  ("销号日期", 12), ("是否逾期", 9), ("逾期天数", 9), ("升级处理", 16), ("发现时间", 17)]


def _results(ws: Sheet, stmt, questions: QuestionTexts, progress, done: int, total: int, words: Words) -> int:
    cols = stmt.with_only_columns(Task.id, Task.enterprise, Task.uscc, Task.review_state, Task.review_comment,
                                  Task.checklists, maintain_column_froms=True).where(Task.status == "dispatched") \
        .order_by(Task.id)
    result = db.session.execute(cols.execution_options(yield_per=CHUNK, stream_results=True))
    for rows in result.partitions(CHUNK):
        ids = [r.id for r in rows]
        records: dict[int, dict] = {}
        for task_id, kind, question, data in db.session.execute(
                select(SyncRecord.task_id, SyncRecord.kind, SyncRecord.question, SyncRecord.data)
                .where(SyncRecord.task_id.in_(ids), SyncRecord.kind.in_(("answer", "outcome")),
                       SyncRecord.superseded.is_(False)).order_by(SyncRecord.received_at)):
            mine = records.setdefault(task_id, {"answers": {}, "outcome": None})
            if kind == "outcome":
                mine["outcome"] = (data or {}).get("outcome")
            elif question:
                mine["answers"][question] = (data or {}).get("result")
        feedback = {f.task_id: f for f in db.session.execute(
            select(Feedback.task_id, Feedback.given_on, Feedback.way).where(Feedback.task_id.in_(ids)))}
        published = {p.task_id: p for p in db.session.execute(
            select(PublishedResult.task_id, PublishedResult.category, PublishedResult.published_at).where(
                PublishedResult.task_id.in_(ids), PublishedResult.current.is_(True)))}
        for r in rows:
            mine = records.get(r.id, {"answers": {}, "outcome": None})
            answers = mine["answers"]
            failed = [q for q, result in answers.items() if result == "no"]
            fb, pub = feedback.get(r.id), published.get(r.id)
            ws.append([r.id, (r.enterprise or {}).get("name", ""), r.uscc,
                       words.review["outcome"].get(mine["outcome"], "") if mine["outcome"] else "",
                       sum(1 for v in answers.values() if v), sum(1 for v in answers.values() if v == "yes"),
                       len(failed), sum(1 for v in answers.values() if v == "na"),
                       "；".join(questions.text(r.checklists, q) or q for q in failed),
                       words.review["review"].get(r.review_state, ""), r.review_comment or "",
                       fb.given_on if fb else None, words.review["way"].get(fb.way, "") if fb else "",
                       words.category.get(pub.category, "") if pub else "", local(pub.published_at) if pub else None])
            done += 1
        progress(done, total)
    return done


def _hazards(ws: Sheet, stmt, questions: QuestionTexts, progress, done: int, total: int, today: date,
             words: Words) -> int:
    scoped = stmt.with_only_columns(Task.id, maintain_column_froms=True).order_by(None)
    cols = (select(Hazard.id, Hazard.task_id, Hazard.enterprise_name, Hazard.region, Hazard.industry, Hazard.grade,
                   Hazard.question, Hazard.description, Hazard.deadline, Hazard.status, Hazard.closed_at,
                   Hazard.escalation, Hazard.created_at, Task.checklists)
            .join(Task, Task.id == Hazard.task_id).where(Hazard.task_id.in_(scoped)).order_by(Hazard.id))
    return _hazard_rows(ws, cols, questions, progress, done, total, today, words)


def _hazard_rows(ws, cols, questions, progress, done, total, today, words: Words) -> int:
    grades, statuses, escalations = words.review["grade"], words.review["hazard"], words.review["escalation"]
    result = db.session.execute(cols.execution_options(yield_per=CHUNK, stream_results=True))
    for rows in result.partitions(CHUNK):
        for h in rows:
            overdue = h.status in ("pending", "rectifying") and h.deadline is not None and h.deadline < today
            ws.append([h.id, h.task_id, h.enterprise_name, h.region,
                       words.industry.get(h.industry, h.industry or ""), grades[h.grade],
                       questions.text(h.checklists, h.question) or (h.question or ""), h.description, h.deadline,
                       statuses.get(h.status, ""), local(h.closed_at).date() if h.closed_at else None,
                       words.yes if overdue else words.no, (today - h.deadline).days if overdue else 0,
                       escalations.get(h.escalation, "") if h.escalation else "",
                       local(h.created_at)])
            done += 1
        progress(done, total)
    return done


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def _tasks(ws: Sheet, stmt, progress, done: int, total: int, today: date, words: Words) -> int:
    batches = _batch_names()
    for rows, members, hazards in _task_stream(stmt):
        for r in rows:
            ws.append(_task_values(r, members, hazards, batches, today, words))
            done += 1
        progress(done, total)
    return done


@job("batch_xlsx")
def batch_xlsx(job_row, params, progress) -> str:
    user = owner(job_row)
    batch = batch_for(user, params.get("batch_id"))
    today = today_shanghai()
    stmt = task_scope(user, select(Task).where(Task.batch_id == batch.id))
    hazards_stmt = select(Hazard.id).join(Task, Task.id == Hazard.task_id).where(
        Hazard.task_id.in_(stmt.with_only_columns(Task.id, maintain_column_froms=True).order_by(None)))
    n_tasks, n_results, n_hazards = _count(stmt), _count(stmt.where(Task.status == "dispatched")), _count(hazards_stmt)
    total = n_tasks + n_results + n_hazards
    progress(0, total, force=True)
    wb = Book(progress)
    questions, words = QuestionTexts(), Words()
    # constant_memory: each sheet is written to its end before the next is added.
    done = _tasks(Sheet(wb, "任务", TASK_COLUMNS), stmt, progress, 0, total, today, words)
    done = _results(Sheet(wb, "检查结果", RESULT_COLUMNS), stmt, questions, progress, done, total, words)
    _hazards(Sheet(wb, "隐患", HAZARD_COLUMNS), stmt, questions, progress, done, total, today, words)
    _save(wb, progress)
    plan = db.session.get(Plan, batch.plan_id)
    return f"{plan.year}年{batch.title}-任务结果隐患-{today.isoformat()}.xlsx"


COMPLIANCE_COLUMNS = [("依据", 30), ("要求", 40), ("是否达到", 12), ("实际", 24), ("目标", 24), ("差距", 10)]


def compliance_rows(year: int, today: date) -> list[dict]:
    """The dashboard's rules (webapp/brigade/compliance.py); its links are built, so a job off the request
    lends it a request context."""
    from flask import current_app, has_request_context

    from .compliance import year_compliance
    if has_request_context():
        return list(year_compliance(year, today=today).get("rules") or [])
    with current_app.test_request_context("/"):
        return list(year_compliance(year, today=today).get("rules") or [])


def _ok_words(ok) -> str:
    return _("Met") if ok is True else _("Not met") if ok is False else _("Not decidable yet")


@job("year_xlsx")
def year_xlsx(job_row, params, progress) -> str:
    user = owner(job_row)
    year = year_for(user, params.get("year"))
    today = today_shanghai()
    stmt = task_scope(user, select(Task).join(Batch, Batch.id == Task.batch_id).join(Plan, Plan.id == Batch.plan_id)
                      .where(Plan.year == year))
    total = _count(stmt)
    progress(0, total, force=True)
    rules = compliance_rows(year, today)
    wb = Book(progress)
    sheet = Sheet(wb, "年度合规", COMPLIANCE_COLUMNS)
    for rule in rules:
        sheet.append([str(rule.get("cite") or ""), str(rule.get("title", "")), _ok_words(rule.get("ok")),
                      _cell(rule.get("figure")), _cell(rule.get("target")), _cell(rule.get("shortfall", 0))])
    _tasks(Sheet(wb, "任务", TASK_COLUMNS), stmt, progress, 0, total, today, Words())
    _save(wb, progress)
    return f"{year}年度抽查合规与任务-{today.isoformat()}.xlsx"


def _cell(value):
    """A figure as a number when it is one, else its words."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else _yes(value)
    if isinstance(value, (int, float)):
        return value
    return str(value)


@job("batch_pdf")
def batch_pdf(job_row, params, progress) -> str:
    from . import export_pdf
    user = owner(job_row)
    batch = batch_for(user, params.get("batch_id"))
    progress(0, 2, force=True)
    from .stats import batch_summary
    summary = batch_summary(batch, user=user if user.role == R.TEAM_LEAD else None)
    progress(1, 2, force=True)
    export_pdf.batch_pdf(summary, progress.path(".pdf"))
    progress(2, 2, force=True)
    plan = db.session.get(Plan, batch.plan_id)
    return f"{plan.year}年{batch.title}-工作小结-{today_shanghai().isoformat()}.pdf"


@job("year_pdf")
def year_pdf(job_row, params, progress) -> str:
    from . import export_pdf
    from .stats import batch_summary
    user = owner(job_row)
    year = year_for(user, params.get("year"))
    today = today_shanghai()
    batches = db.session.scalars(select(Batch).join(Plan, Plan.id == Batch.plan_id).where(Plan.year == year)
                                 .order_by(Batch.window_start, Batch.id)).all()
    progress(0, len(batches) + 2, force=True)
    rules = compliance_rows(year, today)
    progress(1, force=True)
    summaries = []
    for k, batch in enumerate(batches, 2):
        summaries.append(batch_summary(batch, today=today))
        progress(k, force=True)
    export_pdf.year_pdf(year, rules, summaries, progress.path(".pdf"))
    progress(len(batches) + 2, force=True)
    return f"{year}年度双随机抽查工作报告-{today.isoformat()}.pdf"


KINDS = {"batch_xlsx": ("batch", BATCH_ROLES), "batch_pdf": ("batch", BATCH_ROLES),
         "year_xlsx": ("year", YEAR_ROLES), "year_pdf": ("year", YEAR_ROLES)}
