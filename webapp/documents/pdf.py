"""A4 PDFs of the three documents. The font (Noto Sans SC, GB2312 subset, OFL) is embedded, so the
Chinese renders on a machine with no Chinese fonts of its own."""
import io
from pathlib import Path

from flask import current_app
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from ..review.models import LABELS
from ..sync import photos as photo_store
from .models import KINDS
from .services import Facts, local

FONT = "NotoSansSC"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-Regular-GB2312.ttf"
RESULTS = {"yes": "符合", "no": "不符合", "na": "不涉及"}


def _font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))


def _styles() -> dict:
    base = ParagraphStyle("base", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK")
    return {"base": base,
            "title": ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=1, spaceAfter=2),
            "number": ParagraphStyle("number", parent=base, alignment=1, spaceAfter=8),
            "bureau": ParagraphStyle("bureau", parent=base, fontSize=13, alignment=1),
            "h": ParagraphStyle("h", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=2),
            "small": ParagraphStyle("small", parent=base, fontSize=9, leading=13, textColor=colors.HexColor("#444444")),
            "right": ParagraphStyle("right", parent=base, alignment=2)}


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text or "")), style)


def _grid(rows, widths, s) -> Table:
    table = Table([[_p(c, s["base"]) if not hasattr(c, "wrap") else c for c in row] for row in rows], colWidths=widths)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4)]))
    return table


def _members(task) -> str:
    return "；".join(f"{m.inspector.name}（执法证号 {m.inspector.cert_no}）" for m in task.active_members)


def _signatures(facts: Facts, s) -> list:
    out = [_p("签名", s["h"])]
    rows = []
    for sig in facts.records.get("signature", []):
        who = "执法人员" if sig.data.get("role") == "inspector" else "被检查单位负责人"
        if sig.data.get("refused"):
            cell = _p("拒绝签名（已记录在案）", s["base"])
        else:
            path = photo_store.original_path(sig.data["image"]) if sig.data.get("image") else None
            cell = Image(str(path), width=50 * mm, height=18 * mm, kind="proportional") if path and path.exists() \
                else _p("已签名", s["base"])
        rows.append([_p(f"{who} {sig.data.get('name') or ''}", s["base"]), cell])
    if not rows:
        rows.append([_p("执法人员", s["base"]), _p("", s["base"])])
    out.append(_grid(rows, [60 * mm, 110 * mm], s))
    return out


def _photos(facts: Facts, s) -> list:
    shas = []
    for kind in ("answer", "hazard", "closure"):
        for rec in facts.records.get(kind, []):
            shas += [sha for sha in rec.data.get("photos") or [] if sha not in shas]
    images = [Image(str(photo_store.thumb_path(sha)), width=55 * mm, height=41 * mm, kind="proportional")
              for sha in shas if photo_store.thumb_path(sha).exists()]
    if not images:
        return []
    rows = [images[k:k + 3] + [""] * (3 - len(images[k:k + 3])) for k in range(0, len(images), 3)]
    table = Table(rows, colWidths=[58 * mm] * 3)
    return [_p("附：现场照片", s["h"]), table]


def _header(kind: str, number: str, s) -> list:
    return [_p(current_app.config["BUREAU_NAME"], s["bureau"]), _p(KINDS[kind][1], s["title"]),
            _p(number, s["number"])]


def _unit(facts: Facts, s) -> Table:
    e = facts.task.enterprise
    return _grid([["被检查单位", e.get("name", "")], ["统一社会信用代码", facts.task.uscc],
                  ["地址", e.get("address", "")], ["法定代表人（负责人）", f"{e.get('legal_rep', '')}  {e.get('phone', '')}"]],
                 [45 * mm, 125 * mm], s)


def record_story(facts: Facts, number: str, s) -> list:
    task = facts.task
    story = _header("record", number, s) + [_unit(facts, s), Spacer(1, 4)]
    story.append(_grid([["检查场所", task.enterprise.get("address", "")],
                        ["检查时间", f"{local(facts.started)} 至 {local(facts.ended)}"],
                        ["执法人员", _members(task)]], [45 * mm, 125 * mm], s))
    story.append(_p("检查情况", s["h"]))
    rows = [["序号", "检查内容", "结果", "依据"]]
    for k, rec in enumerate(facts.records.get("answer", []), 1):
        q = facts.questions.get(rec.question, {})
        note = f"（{rec.data['note']}）" if rec.data.get("note") else ""
        rows.append([str(k), f"{rec.question} {q.get('text', '')}{note}", RESULTS.get(rec.data.get("result"), ""),
                     q.get("basis", "")])
    story.append(_grid(rows, [12 * mm, 88 * mm, 18 * mm, 52 * mm], s))
    story.append(_p("发现的问题及处理", s["h"]))
    if facts.hazards:
        for k, h in enumerate(facts.hazards, 1):
            story.append(_p(f"{k}. {h.description}（{LABELS['grade'][h.grade]}）" +
                            (f"，责令于{local(h.deadline)}前整改完毕" if h.deadline else ""), s["base"]))
    else:
        story.append(_p("未发现问题。", s["base"]))
    outcome = (facts.records.get("outcome") or [None])[0]
    if outcome is not None and outcome.data.get("outcome") != "completed":
        story.append(_p(f"检查情形：{LABELS['outcome'].get(outcome.data['outcome'], '')}", s["base"]))
    return story + _signatures(facts, s) + _photos(facts, s)


def order_story(facts: Facts, number: str, s) -> list:
    task, e = facts.task, facts.task.enterprise
    story = _header("order", number, s)
    story.append(_p(f"{e.get('name', '')}：", s["base"]))
    story.append(_p(f"经{local(facts.ended, False)}现场检查，你单位存在下列问题：", s["base"]))
    for k, h in enumerate(facts.hazards, 1):
        story.append(_p(f"{k}. {h.description}（{LABELS['grade'][h.grade]}）", s["base"]))
    story.append(Spacer(1, 4))
    for k, h in enumerate(facts.hazards, 1):
        if h.deadline:
            story.append(_p(f"第{k}项问题于{local(h.deadline)}前整改完毕；", s["base"]))
    story.append(_p("整改期间应当采取有效措施，确保安全。逾期未整改或整改不合格的，将依法处理。", s["base"]))
    story.append(_p(f"如果不服本指令，可以依法在六十日内向{current_app.config['REVIEW_BODY']}申请行政复议，或者在六个月内"
                    f"依法向{current_app.config['COURT']}提起行政诉讼，但本指令不停止执行，法律另有规定的除外。", s["base"]))
    story.append(Spacer(1, 6))
    story.append(_grid([["执法人员", _members(task)], ["日期", local(facts.ended, False)]], [45 * mm, 125 * mm], s))
    return story + _signatures(facts, s)


def review_story(facts: Facts, number: str, s) -> list:
    task, e = facts.task, facts.task.enterprise
    story = _header("review", number, s)
    story.append(_p(f"{e.get('name', '')}：", s["base"]))
    origin = facts.origin_order
    ref = f"本机关于{local(origin.issued_at, False)}作出的《责令限期整改指令书》（{origin.number}）" if origin \
        else "本机关作出的责令限期整改指令"
    story.append(_p(f"根据{ref}，于{local(facts.ended, False)}对你单位整改情况进行了复查，复查意见如下：", s["base"]))
    closures = {c.data.get("hazard"): c for c in facts.records.get("closure", [])}
    for k, h in enumerate(facts.hazards, 1):
        c = closures.get(h.record_uuid)
        verdict = "已整改" if c and c.data.get("rectified") else ("未整改" if c else "未复查")
        note = f"。{c.data['note']}" if c and c.data.get("note") else ""
        story.append(_p(f"{k}. {h.description}：{verdict}{note}", s["base"]))
    left = [h for h in facts.hazards if not (closures.get(h.record_uuid) and closures[h.record_uuid].data.get("rectified"))]
    story.append(_p("经复查，所列问题均已整改。" if not left else
                    f"经复查，尚有{len(left)}项问题未整改完毕，将依法处理。", s["base"]))
    story.append(Spacer(1, 6))
    story.append(_grid([["执法人员", _members(task)], ["日期", local(facts.ended, False)]], [45 * mm, 125 * mm], s))
    return story + _signatures(facts, s) + _photos(facts, s)


STORIES = {"record": record_story, "order": order_story, "review": review_story}


#: What an unissued document shows instead of its number, and across each page (issue #11 point 10).
DRAFT_NUMBER = "（草稿，未编号）"
DRAFT_MARK = "草稿 未发文"


def render(facts: Facts, kind: str, number: str | None) -> bytes:
    """The document as an A4 PDF; ``number`` None renders the draft: no number, a watermark on every page."""
    _font()
    s = _styles()
    out = io.BytesIO()
    shown = number or DRAFT_NUMBER
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"{KINDS[kind][1]} {shown}",
                            author=current_app.config["BUREAU_NAME"])

    def footer(canvas, document):
        canvas.saveState()
        if number is None:  # drawn first, so the text lies over it
            canvas.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.18))
            canvas.setFont(FONT, 72)
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(45)
            canvas.drawCentredString(0, 0, DRAFT_MARK)
            canvas.restoreState()
            canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"{shown} 第{document.page}页")
        canvas.restoreState()
    doc.build([KeepTogether([])] + STORIES[kind](facts, shown, s), onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
