"""The batch summary and the annual report as A4 PDFs with their charts (issue #13 point 5).

Charts are reportlab.graphics vector drawings (bars and a pie), drawn on the server; the Chinese text is
the 文书's embedded font (webapp/documents/pdf.py: Noto Sans SC, GB2312 subset). Every page carries the
bureau, the title and "第 N 页 共 M 页"; the first page says the date of issue.
"""
from pathlib import Path
from xml.sax.saxutils import escape

from flask import current_app
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..db_types import today_shanghai
from ..documents.pdf import FONT, _font

PALETTE = [colors.HexColor(c) for c in ("#c23531", "#2f4554", "#61a0a8", "#d48265", "#91c7ae", "#749f83",
                                        "#ca8622", "#bda29a", "#6e7074", "#546570")]
WIDTH = A4[0] - 36 * mm


def _styles() -> dict:
    _font()
    base = ParagraphStyle("base", fontName=FONT, fontSize=10, leading=15, wordWrap="CJK")
    return {"base": base,
            "title": ParagraphStyle("title", parent=base, fontSize=17, leading=24, alignment=1, spaceAfter=2),
            "sub": ParagraphStyle("sub", parent=base, alignment=1, textColor=colors.HexColor("#444444"), spaceAfter=6),
            "h": ParagraphStyle("h", parent=base, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=4,
                                keepWithNext=1),  # a heading never ends a page without what it heads
            "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=colors.HexColor("#555555"))}


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")), style)


def _table(rows, widths, s, header=True) -> Table:
    table = Table([[c if hasattr(c, "wrap") else _p(c, s["base"]) for c in row] for row in rows],
                  colWidths=widths, repeatRows=1 if header else 0)
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde7f0")))
    table.setStyle(TableStyle(style))
    return table


def _pct(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _num(value) -> str:
    return "—" if value is None else (f"{value:.1f}" if isinstance(value, float) else str(value))


LABEL_SIZE = 8


def fit_label(label: str, width: float, lines: int = 2, size: float = LABEL_SIZE) -> str:
    """``label`` broken into at most ``lines`` lines no wider than ``width`` points, the rest cut with
    "…": long batch titles under the bars of a chart ran into each other. A batch title's "第一批：…"
    keeps its head on the first line."""
    _font()
    text, out = str(label), []
    while text and len(out) < lines:
        k = len(text)
        while k > 1 and stringWidth(text[:k], FONT, size) > width:
            k -= 1
        if "：" in text[:k] and not out and k < len(text):
            k = text.index("：") + 1
        out.append(text[:k])
        text = text[k:]
    if text:
        last = out[-1]
        while len(last) > 1 and stringWidth(last + "…", FONT, size) > width:
            last = last[:-1]
        out[-1] = last + "…"
    return "\n".join(out)


def bar_chart(title: str, pairs: list[tuple[str, float]], horizontal: bool = False, height: float = 62 * mm) -> Drawing:
    """A bar chart of (label, value) pairs, with its title and the values written on the bars."""
    pairs = pairs or [("—", 0)]
    drawing = Drawing(WIDTH, height + (len(pairs) * 5 * mm if horizontal else 0))
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.x, chart.y = (40 * mm, 8 * mm) if horizontal else (14 * mm, 18 * mm)
    chart.width = WIDTH - chart.x - 10 * mm
    chart.height = drawing.height - chart.y - 12 * mm
    chart.data = [[float(v or 0) for _l, v in pairs]]
    if horizontal:
        names = [fit_label(label, chart.x - 3 * mm, lines=1) for label, _v in pairs]
    elif len(pairs) > 6:
        names = [fit_label(label, 28 * mm, lines=1) for label, _v in pairs]
        chart.categoryAxis.labels.angle, chart.categoryAxis.labels.boxAnchor = 30, "ne"
    else:  # each label within its bar's slot, on up to two lines
        names = [fit_label(label, chart.width / len(pairs) - 2 * mm) for label, _v in pairs]
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = LABEL_SIZE
    chart.categoryAxis.labels.leading = LABEL_SIZE + 1.5
    chart.valueAxis.valueMin = 0
    top = max([float(v or 0) for _l, v in pairs] + [1])
    chart.valueAxis.valueMax = top * 1.15
    chart.valueAxis.valueStep = max(1, round(top / 5)) if top >= 5 else 1
    chart.bars[0].fillColor = PALETTE[2]
    chart.barLabelFormat = "%d" if all(float(v or 0).is_integer() for _l, v in pairs) else "%.1f"
    chart.barLabels.fontName, chart.barLabels.fontSize = FONT, 7.5
    chart.barLabels.nudge = 6
    drawing.add(chart)
    drawing.add(String(0, drawing.height - 5 * mm, title, fontName=FONT, fontSize=10.5))
    return drawing


def pie_chart(title: str, pairs: list[tuple[str, float]], height: float = 58 * mm, palette=None) -> Drawing:
    """A pie of (label, value) pairs; the legend beside it gives each slice's count."""
    palette = palette or PALETTE
    drawing = Drawing(WIDTH, height)
    drawing.add(String(0, height - 5 * mm, title, fontName=FONT, fontSize=10.5))
    values = [float(v or 0) for _l, v in pairs]
    if not sum(values):
        drawing.add(String(10 * mm, height / 2, "（无数据）", fontName=FONT, fontSize=10))
        return drawing
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 12 * mm, 4 * mm, height - 14 * mm, height - 14 * mm
    pie.data = values
    pie.labels = None
    pie.simpleLabels = 1
    for k in range(len(values)):
        pie.slices[k].fillColor = palette[k % len(palette)]
        pie.slices[k].strokeColor = colors.white
    drawing.add(pie)
    total = sum(values)
    x = pie.x + pie.width + 14 * mm
    for k, (label, value) in enumerate(pairs):
        y = height - 14 * mm - k * 6 * mm
        from reportlab.graphics.shapes import Rect
        drawing.add(Rect(x, y, 4 * mm, 4 * mm, fillColor=palette[k % len(palette)], strokeColor=None))
        drawing.add(String(x + 6 * mm, y + 0.8 * mm, f"{label}  {int(value)}（{value / total * 100:.0f}%）",
                           fontName=FONT, fontSize=9))
    return drawing


class _Numbered(pdfcanvas.Canvas):
    """Writes "第 N 页 共 M 页" once the page count is known."""

    def __init__(self, *args, header: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._pages, self._header = [], header

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.setFillColor(colors.HexColor("#555555"))
            self.drawString(18 * mm, A4[1] - 12 * mm, self._header)
            self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            super().showPage()
        super().save()


def _build(path: Path, title: str, story: list) -> None:
    _font()
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=title, author=current_app.config["BUREAU_NAME"],
                            subject=title)
    header = f"{current_app.config['BUREAU_NAME']} · {title}"
    doc.build(story, canvasmaker=lambda *a, **kw: _Numbered(*a, header=header, **kw))


def _head(title: str, s) -> list:
    today = today_shanghai()
    return [_p(current_app.config["BUREAU_NAME"], s["sub"]), _p(title, s["title"]),
            _p(f"印发日期：{today.year}年{today.month}月{today.day}日", s["sub"]), Spacer(1, 4)]


def batch_story(summary: dict, s, headline_only: bool = False) -> list:
    """The batch summary's figures, charts and tables (the annual report uses the headline part)."""
    b, t, h, o = summary["batch"], summary["tasks"], summary["hazards"], summary["outcomes"]
    story = []
    story.append(_p(f"检查时段：{b.get('window_start', '')} 至 {b.get('window_end', '')}", s["base"]))
    figures = [["派发任务", "已完成", "被退回", "已审核", "已公示", "逾期未检", "未配检查组", "已取消"],
               [t.get("dispatched", 0), t.get("done", 0), t.get("returned", 0), t.get("approved", 0),
                t.get("published", 0), t.get("overdue", 0), t.get("unstaffed", 0), t.get("cancelled", 0)]]
    story.append(_table(figures, [WIDTH / 8] * 8, s))
    story.append(Spacer(1, 4))
    story.append(bar_chart("任务进度（项）", [("派发", t.get("dispatched", 0)), ("已完成", t.get("done", 0)),
                                              ("被退回", t.get("returned", 0)), ("已审核", t.get("approved", 0)),
                                              ("已公示", t.get("published", 0)), ("逾期", t.get("overdue", 0))]))
    hz = [["隐患总数", "重大隐患", "一般隐患", "未整改", "已销号", "逾期", "已升级处理", "整改率", "销号中位天数"],
          [h.get("total", 0), h.get("major", 0), h.get("general", 0), h.get("open", 0), h.get("closed", 0),
           h.get("overdue", 0), h.get("escalated", 0), _pct(h.get("rectification_rate")),
           _num(h.get("median_days_to_close"))]]
    story.append(_p("隐患", s["h"]))
    story.append(_table(hz, [WIDTH / 9] * 9, s))
    story.append(Spacer(1, 4))
    story.append(pie_chart("隐患等级", [(g["label"], g["n"]) for g in summary.get("by_grade") or []]))
    if headline_only:
        return story
    story.append(_p("早期情形", s["h"]))
    story.append(_table([["拒不配合检查（情节严重）", "已关闭", "登记地址查无"],
                         [o.get("non_cooperation", 0), o.get("closed", 0), o.get("not_found", 0)]], [WIDTH / 3] * 3, s))
    industries = [(r["label"], r["n"]) for r in (summary.get("by_industry") or [])[:10]]
    towns = [(r["label"], r["n"]) for r in (summary.get("by_township") or [])[:10]]
    story.append(Spacer(1, 6))
    story.append(bar_chart("隐患按行业（项）", industries, horizontal=True, height=20 * mm))
    story.append(bar_chart("隐患按乡镇（街道）（项）", towns, horizontal=True, height=20 * mm))
    story.append(_p("问题最多的检查项", s["h"]))
    rows = [["序号", "检查项", "检查表", "隐患数"]]
    for k, q in enumerate(summary.get("top_questions") or [], 1):
        rows.append([k, q.get("text") or q.get("question"), q.get("checklist", ""), q.get("n", 0)])
    if len(rows) == 1:
        rows.append(["", "未发现隐患", "", ""])
    story.append(_table(rows, [12 * mm, WIDTH - 72 * mm, 42 * mm, 18 * mm], s))
    r = summary.get("reinspections") or {}
    story.append(_p("复查", s["h"]))
    story.append(_table([["复查的隐患", "已整改", "未整改", "待复查"],
                         [r.get("total", 0), r.get("rectified", 0), r.get("not_rectified", 0), r.get("pending", 0)]],
                        [WIDTH / 4] * 4, s))
    story.append(_p("反馈（7 个工作日内）与公示按时情况", s["h"]))
    rows = [["", "应办", "按时", "超时", "逾期未办"]]
    for name, key in (("反馈", "feedback"), ("公示", "publication")):
        f = summary.get(key) or {}
        rows.append([name, f.get("due", 0), f.get("on_time", 0), f.get("late", 0), f.get("missing_overdue", 0)])
    story.append(_table(rows, [WIDTH / 5] * 5, s))
    story.append(_p("检查人员工作量", s["h"]))
    rows = [["检查人员", "部门", "任务", "已完成", "发现隐患"]]
    for w in summary.get("workload") or []:
        rows.append([w.get("name", ""), w.get("department", ""), w.get("tasks", 0), w.get("done", 0),
                     w.get("hazards", 0)])
    story.append(_table(rows, [32 * mm, WIDTH - 32 * mm - 54 * mm, 18 * mm, 18 * mm, 18 * mm], s))
    earlier = summary.get("earlier") or []
    if earlier:
        story.append(_p("本年度此前批次", s["h"]))
        rows = [["批次", "任务", "已完成", "隐患", "整改率"]]
        for e in earlier:
            rows.append([e.get("title", ""), e.get("tasks", 0), e.get("done", 0), e.get("hazards", 0),
                         _pct(e.get("rectification_rate"))])
        story.append(_table(rows, [WIDTH - 72 * mm, 18 * mm, 18 * mm, 18 * mm, 18 * mm], s))
    return story


def batch_pdf(summary: dict, path: Path) -> None:
    s = _styles()
    b = summary["batch"]
    title = f"{b.get('plan_year', '')}年{b.get('title', '')}工作小结"
    _build(path, title, _head(title, s) + batch_story(summary, s))


def _ok(ok) -> str:
    return "达到" if ok is True else "未达到" if ok is False else "尚不能判断"


def year_pdf(year: int, rules: list[dict], summaries: list[dict], path: Path) -> None:
    s = _styles()
    title = f"{year}年度双随机抽查工作报告"
    story = _head(title, s)
    story.append(_p("一、年度规则执行情况", s["h"]))
    rows = [["要求", "是否达到", "实际", "目标", "差距"]]
    for rule in rules:
        rows.append([str(rule.get("title", "")), _ok(rule.get("ok")), _num(rule.get("figure")),
                     _num(rule.get("target")), _num(rule.get("shortfall", 0))])
    if len(rows) == 1:
        rows.append(["本年度尚无数据", "", "", "", ""])
    story.append(_table(rows, [WIDTH - 112 * mm, 22 * mm, 42 * mm, 30 * mm, 18 * mm], s))
    met = sum(1 for r in rules if r.get("ok") is True)
    missed = sum(1 for r in rules if r.get("ok") is False)
    story.append(Spacer(1, 4))
    story.append(pie_chart("规则执行", [("达到", met), ("未达到", missed),
                                       ("尚不能判断", len(rules) - met - missed)],
                           palette=[colors.HexColor("#2e7d32"), colors.HexColor("#c62828"), colors.HexColor("#9e9e9e")]))
    story.append(_p("二、各批次主要数据", s["h"]))
    rows = [["批次", "检查时段", "派发", "完成", "隐患", "重大隐患", "整改率"]]
    for sm in summaries:
        b, t, h = sm["batch"], sm["tasks"], sm["hazards"]
        rows.append([b.get("title", ""), f"{b.get('window_start', '')}—{b.get('window_end', '')}",
                     t.get("dispatched", 0), t.get("done", 0), h.get("total", 0), h.get("major", 0),
                     _pct(h.get("rectification_rate"))])
    if len(rows) == 1:
        rows.append(["本年度尚无批次", "", "", "", "", "", ""])
    story.append(_table(rows, [34 * mm, WIDTH - 34 * mm - 90 * mm, 15 * mm, 15 * mm, 15 * mm, 20 * mm, 25 * mm], s))
    story.append(Spacer(1, 6))
    story.append(bar_chart("各批次任务完成（项）", [(sm["batch"].get("title", ""), sm["tasks"].get("done", 0))
                                                  for sm in summaries]))
    story.append(bar_chart("各批次发现隐患（项）", [(sm["batch"].get("title", ""), sm["hazards"].get("total", 0))
                                                  for sm in summaries]))
    for k, sm in enumerate(summaries, 1):
        story.append(_p(f"三.{k} {sm['batch'].get('title', '')}", s["h"]))
        story += batch_story(sm, s, headline_only=True)
    _build(path, title, story)
