"""A crawler for the site-wide guard of issue #12 point 1: every page a role can reach, on a 360-px phone,
checked for horizontal overflow and for text no person should read (Python reprs, None/True/False,
internal field names and action codes, ISO timestamps, rule ids, template leftovers, untranslated words)
and for links that answer an error.

`text_problems` is pure Python (unit-tested on its own); `page_problems` measures a live page;
`crawl` walks a site breadth-first from its home page and returns every problem, not the first."""
import re
import time
from collections import defaultdict, deque
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit

PHONE_WIDTH = 360

# --- What no screen may show -------------------------------------------------------------------

#: (what it is, pattern). Patterns look at ASCII neighbours only: a Chinese character next to a code
#: is still a boundary (Python's \b would treat 中 as a word character).
_A = r"(?<![A-Za-z0-9_])"
_Z = r"(?![A-Za-z0-9_])"
FORBIDDEN = [
    ("Python repr", re.compile(r"<built-in|<bound method| object at 0x|<function |\{'|\[\]")),
    ("None/True/False", re.compile(_A + r"(?:None|True|False)" + _Z)),
    ("internal field name", re.compile(_A + r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:\.[a-z0-9]+)*" + _Z)),
    ("internal action code", re.compile(r"(?<![A-Za-z0-9_./@:-])[a-z][a-z_]*(?:\.[a-z][a-z_]*)+" + r"(?![A-Za-z0-9_/-])")),
    # A date-time in ISO form, or seconds with a fraction (microseconds); a coordinate's decimals are data.
    ("ISO timestamp", re.compile(r"\d{4}-\d{2}-\d{2}T\d|:\d{2}\.\d{3,6}(?!\d)")),
    ("rule id", re.compile(r"(?<![A-Za-z0-9_/-])R\d{1,2}(?![0-9])")),
    ("template leftover", re.compile(r"\{\{|\{%|%\}|\}\}")),
]
#: Common English UI words that must not be left untranslated on a Chinese page (a light heuristic).
ENGLISH = re.compile(_A + r"(?:Submit|Save|Cancel|Status|Dispatched|Approved|Returned|Submitted|Delete|Edit|"
                     r"Search|Next|Previous|Loading|Sign in|Sign out|Back|Filter|Download|Upload)" + _Z)

#: Things that look like codes and are what the user should read. Keep this SMALL and honest: every entry
#: is a name a person types, downloads or sees on a certificate, never a field name or a status code.
ALLOWED_TOKENS = {
    "verify_draw.py",  # the verification script the public downloads and runs by that name
    "sha256",          # the hash algorithm's own name
}
#: Dotted tokens ending like a file name or a host name are names, not action codes.
_NAME_SUFFIXES = ("csv", "xlsx", "pdf", "zip", "json", "py", "txt", "jpg", "png", "com", "cn", "org", "net",
                  "love", "gov", "html")


def _allowed(kind: str, token: str) -> bool:
    if token in ALLOWED_TOKENS:
        return True
    if "." in token and token.rsplit(".", 1)[-1] in _NAME_SUFFIXES:  # a file or host name
        return True
    return False


def text_problems(text: str, chinese: bool = True) -> list[str]:
    """Every forbidden thing in ``text`` (what a person reads), each with a little context."""
    seen = {}  # (kind, token) → [first context, count]: one line per distinct thing, not per occurrence
    checks = FORBIDDEN + ([("untranslated English", ENGLISH)] if chinese else [])
    for kind, pattern in checks:
        for m in pattern.finditer(text):
            if _allowed(kind, m.group(0)):
                continue
            entry = seen.setdefault((kind, m.group(0)), [_context(text, m), 0])
            entry[1] += 1
    return [f"{kind}: {ctx}" + (f" (×{n})" if n > 1 else "") for (kind, _t), (ctx, n) in seen.items()]


def _context(text: str, m) -> str:
    start, end = max(0, m.start() - 24), min(len(text), m.end() + 24)
    snippet = text[start:end].replace("\n", " ⏎ ")
    return f"「{m.group(0)}」 in …{snippet}…"


def _dedupe(items):
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


# --- Measuring a live page ---------------------------------------------------------------------------

#: Overflow against the phone's layout width (not innerWidth: an emulated phone zooms out to fit a page
#: that is too wide, and innerWidth grows with it). The culprits are the elements that stick out while
#: their parent does not (where the overflow starts), outside any box that scrolls or clips sideways.
MEASURE_JS = r"""(W) => {
  const sel = (el) => {
    const part = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      [...e.classList].slice(0, 3).map(c => '.' + c).join('');
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) parts.unshift(part(e));
    return parts.join(' > ');
  };
  const sw = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  const out = {scrollWidth: sw, innerWidth: window.innerWidth, offenders: []};
  if (sw > W + 1) {
    const right = new Map();
    const els = [...document.body.querySelectorAll('*')];
    for (const el of els) {
      const r = el.getBoundingClientRect();
      if (r.width === 0) continue;
      // The box itself sticks out, or its text does (a long word, a <pre>, nowrap) from a box that fits.
      const spill = getComputedStyle(el).overflowX === 'visible' ? r.left + el.scrollWidth : r.right;
      right.set(el, {box: r.right, all: Math.max(r.right, spill)});
    }
    const all = [];
    for (const el of els) {
      const m = right.get(el);
      if (!m || m.all <= W + 1) continue;
      let clipped = false;
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible') { clipped = a.getBoundingClientRect().right <= W + 1; break; }
      }
      if (clipped) continue;
      const p = el.parentElement, pm = p && right.get(p);
      // Where the overflow starts: a box wider than its parent's, or the innermost element that spills.
      const starts = m.box > W + 1 && (!pm || p === document.body || pm.box <= W + 1);
      const leaf = ![...el.children].some(c => (right.get(c) || {all: 0}).all > W + 1);
      if (starts || leaf) all.push({sel: sel(el), right: Math.round(m.all),
        text: (el.innerText || el.value || '').trim().slice(0, 40).replace(/\s+/g, ' ')});
    }
    const seen = new Set();
    out.offenders = all.sort((a, b) => b.right - a.right).filter(o => !seen.has(o.sel) && seen.add(o.sel)).slice(0, 5);
  }
  return out;
}"""

#: What a person reads: the visible text with every <details> opened (a closed one still holds UI),
#: input placeholders and the options of selects. Tooltips (title=) may cite an article; not read here.
#: One exemption, by markup: a <details class="raw"> is the stored record itself, shown on request to an
#: auditor who checks the hash chain (the audit trail's "stored record"); its summary is still read.
READ_JS = """() => {
  document.querySelectorAll('details').forEach(d => d.open = !d.classList.contains('raw'));
  const fields = [];
  document.querySelectorAll('input[placeholder], textarea[placeholder]').forEach(e => fields.push(e.placeholder));
  document.querySelectorAll('select option').forEach(o => fields.push(o.textContent.trim()));
  document.querySelectorAll('input[type=submit], input[type=button]').forEach(e => fields.push(e.value));
  const links = [...document.querySelectorAll('a[href]')].map(a => [a.href, (a.innerText || '').trim().slice(0, 30)]);
  return {text: document.body ? document.body.innerText : '', fields, links,
          lang: document.documentElement.lang || ''};
}"""


def overflow_problem(measured: dict, width: int = PHONE_WIDTH) -> str | None:
    if measured["scrollWidth"] <= width + 1:
        return None
    culprits = "; ".join(f"{o['sel']} (right edge {o['right']} px{', 「' + o['text'] + '」' if o['text'] else ''})"
                         for o in measured["offenders"]) or "no single element found"
    return f"horizontal overflow: page is {measured['scrollWidth']} px wide on a {width}-px phone; widest: {culprits}"


#: Table cells squeezed so narrow that their text stacks a character or two a line: the page fits the
#: phone (no overflow) but cannot be read (a seven-column table in 334 px). Cells inside a box that
#: scrolls sideways are fine: the table keeps its width there.
SQUEEZE_JS = """() => {
  const out = [];
  for (const cell of document.querySelectorAll('td, th')) {
    const r = cell.getBoundingClientRect();
    const text = (cell.innerText || '').trim();
    if (!r.width || [...text].length < 6 || r.width >= 48) continue;
    let scrolls = false;
    for (let a = cell.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX) && a.scrollWidth > a.clientWidth + 1) { scrolls = true; break; }
    }
    if (!scrolls) out.push(Math.round(r.width) + ' px: 「' + text.slice(0, 12) + '」');
    if (out.length >= 3) break;
  }
  return out;
}"""


def page_problems(page, width: int = PHONE_WIDTH) -> tuple[list[str], list]:
    """The problems of the page now open, and its links ([href, text])."""
    problems = []
    over = overflow_problem(page.evaluate(MEASURE_JS, width), width)
    if over:
        problems.append(over)
    squeezed = page.evaluate(SQUEEZE_JS)
    if squeezed:
        problems.append("table cells too narrow to read on a phone: " + "; ".join(squeezed))
    read = page.evaluate(READ_JS)
    chinese = read["lang"].lower().startswith("zh")
    problems += text_problems(read["text"], chinese)
    problems += [f"in a form field: {p}" for p in text_problems("\n".join(read["fields"]), chinese)]
    return _dedupe(problems), read["links"]


# --- The crawl ---------------------------------------------------------------------------------------

DOWNLOAD_SUFFIXES = (".xlsx", ".csv", ".zip", ".pdf", ".js", ".json", ".py", ".txt", ".png", ".jpg", ".svg")
SKIP_PATHS = ("/logout", "/sign-out", "/signout")
_ID = re.compile(r"^(?:\d+|[0-9a-f]{8,}|[0-9a-f-]{20,}|\d+-\d+-\d+-\d+|[A-Za-z0-9_-]{24,})$")


def shape(path: str) -> str:
    """A path with its ids replaced: /review/12 and /review/31 are one kind of page."""
    return "/".join("{}" if _ID.match(seg) else seg for seg in path.split("/"))


def normalized(url: str) -> str:
    url, _frag = urldefrag(url)
    parts = urlsplit(url)
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if v != ""))
    return parts.path + ("?" + query if query else "")


class Crawl:
    """Breadth-first over a role's site. At most ``per_shape`` pages of one kind (ids replaced) and
    ``per_path`` query variants of one path, ``max_pages`` pages and ``budget`` seconds in all."""

    def __init__(self, page, base: str, role: str, max_pages=140, per_shape=3, per_path=3, budget=80.0,
                 include_app=False):
        self.page, self.base, self.role = page, base.rstrip("/"), role
        self.max_pages, self.per_shape, self.per_path, self.budget = max_pages, per_shape, per_path, budget
        self.include_app = include_app
        self.problems = defaultdict(list)  # url → problems
        self.visited: list[str] = []
        self.status: dict[str, int] = {}  # every link checked: normalized url → HTTP status
        self.found_on: dict[str, str] = {}
        self._shapes = defaultdict(set)
        self._variants = defaultdict(set)
        self._queued: set[str] = set()
        self._app_done = False

    def _same_origin(self, url: str) -> bool:
        return url.startswith(self.base + "/") or url == self.base

    def _take(self, key: str) -> bool:
        """Whether the page ``key`` (path + normalized query) is still within the caps."""
        path = key.split("?", 1)[0]
        s = shape(path)
        if path not in self._shapes[s] and len(self._shapes[s]) >= self.per_shape:
            return False
        if "?" in key and key not in self._variants[path] and len(self._variants[path]) >= self.per_path:
            return False
        self._shapes[s].add(path)
        if "?" in key:
            self._variants[path].add(key)
        return True

    def _check_status(self, key: str, referrer: str) -> tuple[int, str]:
        resp = self.page.context.request.get(self.base + key, max_redirects=5)
        status, ctype = resp.status, resp.headers.get("content-type", "")
        resp.dispose()
        self.status[key] = status
        if status >= 400:
            self.problems[referrer].append(f"link to {key} answers HTTP {status}")
        return status, ctype

    def run(self, start: str = "/") -> "Crawl":
        began = time.monotonic()
        queue = deque([(start, "(start)")])
        self._queued.add(start)
        self._take(start)
        while queue and len(self.visited) < self.max_pages and time.monotonic() - began < self.budget:
            key, referrer = queue.popleft()
            path = key.split("?", 1)[0]
            if path.startswith("/app/"):
                if not self.include_app or self._app_done:
                    continue
                self._app_done = True
            status, ctype = self._check_status(key, referrer)
            if status >= 400 or "text/html" not in ctype:
                continue  # an error (reported on the referring page) or a download
            resp = self.page.goto(self.base + key, wait_until="load")
            landed = normalized(self.page.url) if self._same_origin(self.page.url) else self.page.url
            self.visited.append(landed)
            if resp is None or resp.status >= 400:
                self.problems[key].append(f"page answers HTTP {resp.status if resp else '?'}")
                continue
            problems, links = page_problems(self.page)
            self.problems[landed] += problems
            if path.startswith("/app/"):
                continue  # the offline app: measured as a page; its own tests walk it
            for href, _text in links:
                if not self._same_origin(href):
                    continue
                link = normalized(href)
                lpath = link.split("?", 1)[0]
                if link in self._queued or any(s in lpath for s in SKIP_PATHS):
                    continue
                self._queued.add(link)
                self.found_on[link] = landed
                if lpath.lower().endswith(DOWNLOAD_SUFFIXES) and not lpath.startswith("/app/"):
                    if len(self._shapes["download:" + shape(lpath)]) < self.per_shape:
                        self._shapes["download:" + shape(lpath)].add(lpath)
                        self._check_status(link, landed)
                    continue
                if self._take(link):
                    queue.append((link, landed))
        self.left = len(queue)
        return self

    def report(self, per_page: int = 12) -> str:
        lines = []
        for url, problems in self.problems.items():
            problems = _dedupe(problems)
            if not problems:
                continue
            lines.append(f"[{self.role}] {url}")
            lines += [f"    {p}" for p in problems[:per_page]]
            if len(problems) > per_page:
                lines.append(f"    … and {len(problems) - per_page} more")
        return "\n".join(lines)
