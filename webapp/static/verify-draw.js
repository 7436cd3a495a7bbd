// SSJ-DRAW-v1 verifier for the browser (WebCrypto SHA-256, BigInt for exact arithmetic).
// It mirrors webapp/draws/verify_draw.py check for check and names the first check that fails;
// tests/browser/test_draw_verify.py runs both on the same exports and expects the same verdicts.
"use strict";

const SPEC = "SSJ-DRAW-v1";
const INPUT_FILES = ["pool.csv", "mandatory.csv", "excluded.csv", "inspectors.csv", "recusals.csv", "rules.json"];
const HEADERS = {"pool.csv": "uscc,stratum", "mandatory.csv": "uscc,reason", "excluded.csv": "uscc,reason",
                 "inspectors.csv": "id,certified,capacity,competences", "recusals.csv": "inspector_id,uscc"};
const enc = new TextEncoder();

class VerifyError extends Error {
  constructor(check, message) { super(`${check}: ${message}`); this.check = check; this.detail = message; }
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), b => b.toString(16).padStart(2, "0")).join("");
}
async function Hbytes(bytes) { return hex(await crypto.subtle.digest("SHA-256", bytes)); }
async function H(text) { return Hbytes(enc.encode(text)); }
async function Hmany(texts) {  // many hashes at once: WebCrypto runs them concurrently
  const out = new Array(texts.length);
  for (let start = 0; start < texts.length; start += 5000) {
    const part = texts.slice(start, start + 5000);
    const done = await Promise.all(part.map(t => H(t)));
    for (let i = 0; i < done.length; i++) out[start + i] = done[i];
  }
  return out;
}
const big = h => BigInt("0x" + h);

// Code-point order, as Python sorts strings (UTF-16 order differs only for astral characters).
function cmp(a, b) {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x !== y) {
      const surrogate = c => c >= 0xd800 && c <= 0xdfff;
      if (surrogate(x) || surrogate(y)) return a.codePointAt(i) < b.codePointAt(i) ? -1 : 1;
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}
const sorted = arr => [...arr].sort(cmp);

function canonicalJson(value) {
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  if (value && typeof value === "object") {
    return "{" + Object.keys(value).sort(cmp).map(k => JSON.stringify(k) + ":" + canonicalJson(value[k])).join(",") + "}";
  }
  return JSON.stringify(value);
}

function parseCsv(name, bytes) {
  const check = `format of ${name}`;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw new VerifyError(check, "starts with a byte-order mark");
  let text;
  try { text = new TextDecoder("utf-8", {fatal: true}).decode(bytes); }
  catch (e) { throw new VerifyError(check, "not UTF-8"); }
  if (!text.endsWith("\n")) throw new VerifyError(check, "the last line does not end in \\n");
  const lines = text.slice(0, -1).split("\n");
  if (lines[0] !== HEADERS[name]) throw new VerifyError(check, `header is '${lines[0]}', expected '${HEADERS[name]}'`);
  const commas = HEADERS[name].split(",").length - 1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.includes("\r") || line.includes('"') || line !== line.replace(/^ +| +$/g, "") || line.split(",").length - 1 !== commas) {
      throw new VerifyError(check, `line ${i + 1} is malformed: '${line}'`);
    }
  }
  const data = lines.slice(1);
  for (let i = 1; i < data.length; i++) {
    if (cmp(data[i - 1], data[i]) > 0) throw new VerifyError(check, "data lines are not sorted in code-point order");
  }
  return data.map(l => l.split(","));
}

function parseInputs(files) {
  for (const name of INPUT_FILES) if (!(name in files)) throw new VerifyError("files present", `${name} is missing`);
  const pool = parseCsv("pool.csv", files["pool.csv"]);
  const mandatory = parseCsv("mandatory.csv", files["mandatory.csv"]);
  const excluded = parseCsv("excluded.csv", files["excluded.csv"]);
  const seen = new Set();
  for (const [name, rows] of [["pool.csv", pool], ["mandatory.csv", mandatory], ["excluded.csv", excluded]]) {
    for (const [u] of rows) {
      if (seen.has(u)) throw new VerifyError("each credit code once", `${u} appears more than once (${name})`);
      seen.add(u);
    }
  }
  const inspectors = [], ids = new Set();
  for (const [id, certified, capacity, comps] of parseCsv("inspectors.csv", files["inspectors.csv"])) {
    if (ids.has(id)) throw new VerifyError("format of inspectors.csv", `inspector id ${id} appears twice`);
    ids.add(id);
    if (!["0", "1"].includes(certified) || !/^[0-9]+$/.test(capacity) || Number(capacity) < 1) {
      throw new VerifyError("format of inspectors.csv", `inspector ${id}: certified must be 0/1, capacity ≥ 1`);
    }
    const listed = comps ? comps.split(";") : [];
    if (listed.join(";") !== sorted([...new Set(listed)]).join(";")) {
      throw new VerifyError("format of inspectors.csv", `inspector ${id}: competences not a sorted list`);
    }
    inspectors.push({id, certified: certified === "1", capacity: Number(capacity), competences: new Set(listed)});
  }
  const recusals = new Set(parseCsv("recusals.csv", files["recusals.csv"]).map(([i, u]) => i + "|" + u));
  let rules;
  const raw = files["rules.json"];
  try { rules = JSON.parse(new TextDecoder("utf-8", {fatal: true}).decode(raw)); }
  catch (e) { throw new VerifyError("format of rules.json", "not JSON"); }
  const again = enc.encode(canonicalJson(rules));
  if (again.length !== raw.length || again.some((b, i) => b !== raw[i])) {
    throw new VerifyError("format of rules.json", "not in canonical form (sorted keys, no spaces)");
  }
  if (!Number.isInteger(rules.sample_size) || rules.sample_size < 0) throw new VerifyError("format of rules.json", "sample_size must be a whole number ≥ 0");
  if (!Number.isInteger(rules.group_size) || rules.group_size < 2) throw new VerifyError("format of rules.json", "group_size must be a whole number ≥ 2");
  const req = rules.required_competences;
  if (!req || typeof req !== "object" || !Array.isArray(req.default)) throw new VerifyError("format of rules.json", "required_competences needs a default list");
  return {pool, mandatory, excluded, inspectors, recusals, rules};
}

async function commitment(drawId, files, beaconRef) {
  const parts = [SPEC, drawId];
  for (const name of INPUT_FILES) parts.push(await Hbytes(files[name]));
  parts.push(beaconRef);
  return H(parts.join("|"));
}

// §3: floors, then systematic rounding; all fractions share the denominator N·2^256.
async function quotas(strata, n, seed) {
  const names = sorted(Object.keys(strata));
  const total = names.reduce((s, k) => s + strata[k], 0);
  if (n > total) throw new VerifyError("draw", `sample size ${n} exceeds the pool (${total})`);
  const out = {};
  if (n === 0 || total === 0) { names.forEach(s => out[s] = 0); return out; }
  const N = BigInt(total), two256 = 1n << 256n, D = N * two256;
  const u = big(await H(seed + "|alloc")) * N;
  let running = 0n;
  for (const s of names) {
    const num = BigInt(n) * BigInt(strata[s]);
    out[s] = Number(num / N);
    const low = running;
    running += (num % N) * two256;
    let k = low > u ? (low - u + D - 1n) / D : 0n;
    if (u + k * D < running) out[s] += 1;
  }
  return out;
}

async function select(pool, mandatory, n, seed) {
  const byStratum = {};
  for (const [u, s] of pool) (byStratum[s] = byStratum[s] || []).push(u);
  const q = await quotas(Object.fromEntries(Object.entries(byStratum).map(([s, v]) => [s, v.length])), n, seed);
  const picks = {}, reserve = {};
  for (const [s, members] of Object.entries(byStratum)) {
    const keys = await Hmany(members.map(u => seed + "|ent|" + u));
    const order = members.map((u, i) => [keys[i], u]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(x => x[1]);
    picks[s] = order.slice(0, q[s]);
    reserve[s] = order.slice(q[s]);
  }
  const sel = new Set(mandatory);
  Object.values(picks).forEach(p => p.forEach(u => sel.add(u)));
  return {quotas: q, selected: sorted(sel), reserve};
}

// §4 read literally: scan the pool at each pick (fast enough in a browser for thousands).
class Drawer {
  constructor(inputs, seed) {
    this.insp = inputs.inspectors; this.byId = Object.fromEntries(this.insp.map(i => [i.id, i]));
    this.recusals = inputs.recusals; this.required = inputs.rules.required_competences;
    this.groupSize = inputs.rules.group_size; this.seed = seed;
    this.loads = Object.fromEntries(this.insp.map(i => [i.id, 0]));
    this.groups = {}; this.unstaffed = {}; this.thin = []; this.counters = {}; this.left = {};
  }
  needs(u) { return sorted(this.required[u] || this.required.default || []); }
  eligible(u, group, pred) {
    const left = this.left[u] || new Set();
    return this.insp.filter(i => i.certified && this.loads[i.id] < i.capacity && !this.recusals.has(i.id + "|" + u)
      && !group.includes(i.id) && !left.has(i.id) && pred(i)).map(i => i.id);
  }
  async pick(cands, u, j) {
    // least (load + 1) / capacity, compared exactly by cross-multiplication
    let best = null;
    for (const id of cands) {
      const i = this.byId[id];
      if (best === null || (this.loads[id] + 1) * this.byId[best].capacity < (this.loads[best] + 1) * i.capacity) best = id;
    }
    const b = this.byId[best];
    const L = sorted(cands.filter(id => (this.loads[id] + 1) * b.capacity === (this.loads[best] + 1) * this.byId[id].capacity));
    const x = big(await H(`${this.seed}|insp|${u}|${j}`));
    return L[Number(x % BigInt(L.length))];
  }
  async staffTask(u) {
    const group = []; let j = 0, reason = null;
    const add = async (cands) => {
      if (j === 0 && cands.length < this.groupSize + 1) this.thin.push(u);
      group.push(await this.pick(cands, u, j)); j += 1;
    };
    for (const c of this.needs(u)) {
      if (group.some(m => this.byId[m].competences.has(c))) continue;
      const cands = this.eligible(u, group, i => i.competences.has(c));
      if (!cands.length) { reason = `no eligible inspector with competence ${c}`; break; }
      await add(cands);
    }
    while (reason === null && group.length < this.groupSize) {
      const cands = this.eligible(u, group, () => true);
      if (!cands.length) { reason = `only ${group.length} eligible inspector(s), group size ${this.groupSize}`; break; }
      await add(cands);
    }
    this.counters[u] = j;
    if (reason) { this.unstaffed[u] = reason; return; }
    this.groups[u] = group;
    group.forEach(m => this.loads[m] += 1);
  }
  async replaceInspector(u, leaving) {
    const group = this.groups[u];
    if (!group || !group.includes(leaving)) throw new VerifyError("draw", `${leaving} is not in the group of ${u}`);
    group.splice(group.indexOf(leaving), 1);
    this.loads[leaving] -= 1;
    (this.left[u] = this.left[u] || new Set()).add(leaving);
    const uncovered = this.needs(u).filter(c => !group.some(m => this.byId[m].competences.has(c)));
    const cands = this.eligible(u, group, i => uncovered.every(c => i.competences.has(c)));
    if (!cands.length) throw new VerifyError("draw", `no eligible inspector can replace ${leaving} in the group of ${u}`);
    const j = this.counters[u];
    const member = await this.pick(cands, u, j);
    this.counters[u] = j + 1;
    group.push(member); this.loads[member] += 1;
    return member;
  }
  dropEnterprise(u) {
    (this.groups[u] || []).forEach(m => this.loads[m] -= 1);
    delete this.groups[u]; delete this.unstaffed[u];
  }
}

async function run(inputs, seed, subs) {
  const sel = await select(inputs.pool, inputs.mandatory.map(r => r[0]), inputs.rules.sample_size, seed);
  const d = new Drawer(inputs, seed);
  const taskKeys = await Hmany(sel.selected.map(u => seed + "|task|" + u));
  const order = sel.selected.map((u, i) => [taskKeys[i], u]).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(x => x[1]);
  for (const u of order) await d.staffTask(u);
  const result = {quotas: sel.quotas, selected: sel.selected, reserve: sel.reserve,
                  groups: JSON.parse(JSON.stringify(d.groups)), unstaffed: {...d.unstaffed}, thin: [...d.thin]};
  const stratumOf = Object.fromEntries(inputs.pool.map(([u, s]) => [u, s]));
  const used = new Set(sel.selected), selected = new Set(sel.selected), replayed = [];
  for (const s of subs) {
    if (!selected.has(s.task)) throw new VerifyError("draw", `substitution names ${s.task}, which is not a task of this draw`);
    if (s.kind === "inspector") replayed.push(await d.replaceInspector(s.task, s.out));
    else if (s.kind === "enterprise") {
      d.dropEnterprise(s.task); selected.delete(s.task);
      const newcomer = (sel.reserve[stratumOf[s.task]] || []).find(u => !used.has(u)) ?? null;
      if (newcomer !== null) { used.add(newcomer); selected.add(newcomer); await d.staffTask(newcomer); }
      replayed.push(newcomer);
    } else throw new VerifyError("draw", `unknown substitution kind ${s.kind}`);
  }
  result.final = {groups: d.groups};
  result.replayed = replayed;
  return result;
}

// --- §2 the beacon's time (verify_draw.py: beacon_time, lottery_problem; issue #11 point 6) ---
const DRAND_QUICKNET_GENESIS = 1692803367n, DRAND_QUICKNET_PERIOD = 3n;
const LOTTERY_DAYS = [2, 4, 0];  // getUTCDay: Tuesday, Thursday, Sunday
const BEIJING_US = 8n * 3600n * 1000000n, DAY_US = 86400n * 1000000n;
const INSTANT_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{6})?([+-])([0-9]{2}):([0-9]{2})$/;

function instant(text) {  // microseconds since 1970 UTC (BigInt), or null
  const m = typeof text === "string" ? INSTANT_RE.exec(text) : null;
  if (!m) return null;
  const [y, mo, d, h, mi, s, oh, om] = [1, 2, 3, 4, 5, 6, 9, 10].map(k => Number(m[k]));
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s));
  date.setUTCFullYear(y);  // Date.UTC reads years 0-99 as 1900-1999
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59
      || date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  const offset = BigInt(oh * 3600 + om * 60) * 1000000n * (m[8] === "-" ? -1n : 1n);
  return BigInt(date.getTime()) * 1000n + BigInt(m[7] ? Number(m[7].slice(1)) : 0) - offset;
}

function beaconTime(ref) {
  const m = typeof ref === "string" ? /^(.*) \(([^()]+)\)$/s.exec(ref) : null;
  const at = m ? instant(m[2]) : null;
  if (at === null) return null;
  let k = /^drand quicknet round ([1-9][0-9]*)$/s.exec(m[1]);
  if (k) return {kind: "drand", number: BigInt(k[1]), at, text: m[2]};
  k = /^福彩双色球 ([0-9]{7})期$/s.exec(m[1]);
  if (k) return {kind: "lottery", number: Number(k[1]), at, text: m[2]};
  return {kind: "other", number: null, at, text: m[2]};
}

function lotteryProblem(issue, at) {
  const localUs = at + BEIJING_US, dayUs = ((localUs % DAY_US) + DAY_US) % DAY_US;
  const local = new Date(Number((localUs - dayUs) / 1000n));
  const shown = `${local.toISOString().slice(0, 10)} ${String(dayUs / 3600000000n).padStart(2, "0")}:${String(dayUs / 60000000n % 60n).padStart(2, "0")}`;
  if (!LOTTERY_DAYS.includes(local.getUTCDay()) || dayUs !== (21n * 60n + 15n) * 60000000n)
    return `${shown} is not a draw time (Tuesdays, Thursdays and Sundays at 21:15 Beijing time)`;
  const year = Math.floor(issue / 1000), number = issue % 1000;
  if (year !== local.getUTCFullYear()) return `the issue belongs to ${year} but the draw time is in ${local.getUTCFullYear()}`;
  const days = lotteryDrawDays(year, local);
  if (number < 1 || number > days)
    return `issue number ${number} of the year cannot be drawn by ${shown.slice(0, 10)}: only ${days} scheduled draw day(s) fall before`;
  return null;
}

function lotteryDrawDays(year, until) {  // scheduled draw days from 1 January of `year` through the UTC-midnight Date `until`
  let days = 0;
  const d = new Date(0);
  d.setUTCFullYear(year, 0, 1);
  for (; d <= until; d.setUTCDate(d.getUTCDate() + 1)) if (LOTTERY_DAYS.includes(d.getUTCDay())) days++;
  return days;
}

// verify_draw.py: lottery_known (issue #11 point 6): null when issue `issue` cannot have been drawn by the
// commitment's time `committed` (µs), else why: the year's scheduled draw days already come bound the issues drawn.
function lotteryKnown(issue, committed) {
  const localUs = committed + BEIJING_US, dayUs = ((localUs % DAY_US) + DAY_US) % DAY_US;
  const local = new Date(Number((localUs - dayUs) / 1000n));
  const nowYear = local.getUTCFullYear(), year = Math.floor(issue / 1000), number = issue % 1000;
  if (year > nowYear) return null;
  let passed;
  if (year < nowYear) {
    const end = new Date(0);
    end.setUTCFullYear(year, 11, 31);
    passed = lotteryDrawDays(year, end);
  } else {
    passed = lotteryDrawDays(year, local);
    if (LOTTERY_DAYS.includes(local.getUTCDay()) && dayUs < (21n * 60n + 15n) * 60000000n) passed--;  // today's draw is still to come
    if (number > passed) return null;
  }
  const at = `${local.toISOString().slice(0, 10)} ${String(dayUs / 3600000000n).padStart(2, "0")}:${String(dayUs / 60000000n % 60n).padStart(2, "0")}`;
  return `福彩双色球 ${issue}期 may already have been drawn when the commitment was made at ${at}: ${passed} scheduled draw day(s) of ${year} had come by then, so issues up to ${year * 1000 + passed} may have been known`;
}

function checkBeaconTime(draw, report) {
  const read = beaconTime(draw.beacon_ref);
  if (read === null) {
    report.warnings.push(warning("no time", {}, "beacon_ref names no time this verifier can read; check by hand that its value did not exist before the commitment"));
    return;
  }
  if (read.kind === "drand") {
    const due = DRAND_QUICKNET_GENESIS + (read.number - 1n) * DRAND_QUICKNET_PERIOD;
    if (read.at !== due * 1000000n) throw new VerifyError("beacon time", `drand quicknet round ${read.number} comes at Unix second ${due}, not at ${read.text}`);
  } else if (read.kind === "lottery") {
    const problem = lotteryProblem(read.number, read.at);
    if (problem) throw new VerifyError("beacon time", `福彩双色球 ${read.number}期: ${problem}`);
    report.warnings.push(warning("lottery time", {n: read.number, t: read.text}, `福彩双色球 ${read.number}期 is claimed to be drawn at ${read.text}: check that time against the lottery's own record`));
  }
  report.checks.push("beacon time");
  const committed = instant(draw.committed_at);
  if (committed === null) throw new VerifyError("beacon after commitment", `committed_at ${JSON.stringify(draw.committed_at)} is not a time`);
  if (!(read.at > committed)) throw new VerifyError("beacon after commitment", `the beacon's value exists at ${read.text}, not after the commitment at ${draw.committed_at}`);
  if (read.kind === "lottery") {  // issue #11 point 6: an issue the lottery may already have drawn by the commitment
    const known = lotteryKnown(read.number, committed);
    if (known) throw new VerifyError("beacon after commitment", known);
  }
  report.checks.push("beacon after commitment");
}

function same(a, b) { return canonicalJson(a) === canonicalJson(b); }
function short(v) { const t = JSON.stringify(v); return t.length <= 120 ? t : t.slice(0, 117) + "…"; }

async function verify(files, draw) {
  const report = {ok: false, checks: [], warnings: [], failed: null};
  const expect = (check, published, computed) => {
    if (!same(published, computed)) throw new VerifyError(check, `published ${short(published)} but the files give ${short(computed)}`);
    report.checks.push(check);
  };
  try {
    if (draw.spec !== SPEC) throw new VerifyError("spec", `draw.json says ${draw.spec}, this verifier checks ${SPEC}`);
    const inputs = parseInputs(files);
    report.checks.push("input files well-formed");
    expect("draw id in rules.json", String(inputs.rules.draw_id ?? draw.draw_id), String(draw.draw_id));
    expect("commitment", draw.commitment, await commitment(draw.draw_id, files, draw.beacon_ref));
    checkBeaconTime(draw, report);
    const seed = await H(`${SPEC}|${draw.commitment}|${draw.beacon_value}`);
    expect("seed", draw.seed, seed);
    const subs = draw.substitutions || [];
    const result = await run(inputs, seed, subs);
    for (const key of ["quotas", "selected", "reserve", "groups", "unstaffed"]) expect(key, draw[key], result[key]);
    subs.forEach((s, k) => expect(`substitution ${k + 1} (${s.kind} ${s.task})`, s.in, result.replayed[k]));
    const byId = Object.fromEntries(inputs.inspectors.map(i => [i.id, i])), loads = {};
    for (const [u, group] of Object.entries(result.final.groups)) {
      for (const m of group) {
        if (inputs.recusals.has(m + "|" + u)) throw new VerifyError("recusals", `${m} is in the group of ${u} despite a recusal`);
        if (!byId[m] || !byId[m].certified) throw new VerifyError("certified", `${m} in the group of ${u} is not a certified inspector`);
        loads[m] = (loads[m] || 0) + 1;
      }
    }
    for (const [m, l] of Object.entries(loads)) if (l > byId[m].capacity) throw new VerifyError("capacity", `${m} has ${l} tasks, capacity ${byId[m].capacity}`);
    report.checks.push("no recusal pair meets, no inspector over capacity, groups certified");
    report.warnings = report.warnings.concat(sorted(result.thin).map(u => warning("thin", {u}, `task ${u}: fewer than group_size + 1 eligible inspectors at its first pick`)));
    report.ok = true;
  } catch (e) {
    report.failed = e instanceof VerifyError ? e : new VerifyError("draw.json", `missing or malformed field (${e.message})`);
  }
  return report;
}

// --- a small zip reader (stored and deflate entries; DecompressionStream inflates) ---
async function readZip(buffer) {
  const bytes = new Uint8Array(buffer), view = new DataView(buffer);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new VerifyError("reading the export", "not a zip file");
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const files = {};
  for (let k = 0; k < count; k++) {
    if (view.getUint32(p, true) !== 0x02014b50) throw new VerifyError("reading the export", "damaged zip directory");
    const method = view.getUint16(p + 10, true), size = view.getUint32(p + 20, true);
    const nameLen = view.getUint16(p + 28, true), extraLen = view.getUint16(p + 30, true), commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(start, start + size);
    if (method === 0) files[name] = raw.slice();
    else if (method === 8) {
      const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
      files[name] = new Uint8Array(await new Response(stream).arrayBuffer());
    } else throw new VerifyError("reading the export", `${name}: unsupported compression ${method}`);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

async function verifyZip(buffer) {
  let entries;
  try { entries = await readZip(buffer); }
  catch (e) { return {ok: false, checks: [], warnings: [], failed: e instanceof VerifyError ? e : new VerifyError("reading the export", e.message)}; }
  if (!entries["draw.json"]) return {ok: false, checks: [], warnings: [], failed: new VerifyError("files present", "draw.json is missing")};
  let draw;
  try { draw = JSON.parse(new TextDecoder().decode(entries["draw.json"])); }
  catch (e) { return {ok: false, checks: [], warnings: [], failed: new VerifyError("draw.json", "not JSON")}; }
  const files = {};
  INPUT_FILES.forEach(n => { if (entries[n]) files[n] = entries[n]; });
  return verify(files, draw);
}

// --- what the page shows: the checks in the reader's language (issue #12 point 5) ---
// The check names above are shared identifiers (verify_draw.py prints the same ones, data-failed-check
// carries them); the page translates them with the labels the server put in data-labels.
function warning(key, args, text) { return {key, args, text, toString() { return text; }}; }

function fill(template, args) { return template.replace(/%\((\w+)\)s/g, (m, k) => (k in args ? String(args[k]) : m)); }

function checkLabel(check, labels) {
  if (labels.checks && labels.checks[check]) return labels.checks[check];
  let m = /^format of (.+)$/.exec(check);
  if (m && labels.format) return fill(labels.format, {file: m[1]});
  m = /^substitution (\d+) \((\S+) (.*)\)$/.exec(check);
  if (m && labels.substitution) {
    return fill(labels.substitution, {n: m[1], kind: (labels.kinds && labels.kinds[m[2]]) || m[2], task: m[3]});
  }
  return check;
}

function warningText(w, labels) {
  const template = labels.warnings && labels.warnings[w.key];
  return template ? fill(template, w.args) : w.text;
}

function show(report, out) {
  let labels = {};
  try { labels = JSON.parse(out.dataset.labels || "{}"); } catch (e) { labels = {}; }
  out.replaceChildren();
  const add = (cls, text) => { const li = document.createElement("li"); li.className = cls; li.textContent = text; out.append(li); };
  report.checks.forEach(c => add("ok", "✓ " + checkLabel(c, labels)));
  report.warnings.forEach(w => add("warn", "⚠ " + warningText(w, labels)));
  if (report.ok) add("pass", out.dataset.passText);
  else add("fail", `${out.dataset.failText} ${checkLabel(report.failed.check, labels)}: ${report.failed.detail}`);
  out.dataset.status = report.ok ? "pass" : "fail";
  out.dataset.failedCheck = report.ok ? "" : report.failed.check;
}

document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("verify-result");
  if (!out) return;
  if (!window.crypto || !crypto.subtle) {
    out.dataset.status = "unavailable";
    out.textContent = out.dataset.insecureText;
    return;
  }
  const busy = () => { out.dataset.status = "running"; out.textContent = out.dataset.runningText; };
  const fromServer = document.getElementById("verify-server");
  if (fromServer) fromServer.addEventListener("click", async () => {
    busy();
    const response = await fetch(fromServer.dataset.export);
    show(await verifyZip(await response.arrayBuffer()), out);
  });
  const input = document.getElementById("verify-file");
  if (input) input.addEventListener("change", async () => {
    if (!input.files.length) return;
    busy();
    show(await verifyZip(await input.files[0].arrayBuffer()), out);
  });
  // Usable only now: a tap before this script ran would have done nothing.
  for (const control of [fromServer, input]) if (control) control.disabled = false;
});
