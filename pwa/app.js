// The inspector's offline app: task list, checklist, photos, hazards, outcome, signatures.
// Every change is saved to IndexedDB at once (no save button); sync runs on open, on `online`,
// by Background Sync where the browser has it, and on the 立即同步 button.
"use strict";

const S = self.ssjStore;
const LANG = (localStorage.getItem("ssj-lang") || (navigator.language || "zh").slice(0, 2)) === "en" ? "en" : "zh";
const T = {
  zh: {
    title: "双随机检查", login: "登录", username: "用户名", password: "密码", tasks: "我的任务", sync: "立即同步",
    never: "尚未同步", lastSync: "上次同步", pending: "待上传", offline: "离线", online: "在线",
    insecure: "当前连接不安全（非HTTPS）：离线功能、加密和持久存储不可用。请通过HTTPS访问。",
    persisted: "存储已设为持久", notPersisted: "存储可能被浏览器清理，请将应用添加到主屏幕", free: "可用空间",
    lowSpace: "手机存储空间不足，请尽快同步并清理照片", noTasks: "没有任务。联网后点“立即同步”下载任务。",
    due: "截止", answered: "已答", back: "‹ 任务", checkin: "签到", checkedIn: "已签到",
    yes: "符合", no: "不符合", na: "不涉及", note: "备注", photo: "拍照", hint: "检查要点", basis: "依据",
    hazard: "登记隐患", general: "一般事故隐患", major: "重大事故隐患", description: "隐患描述",
    deadline: "建议整改期限", saveHazard: "保存隐患", hazards: "隐患", outcome: "检查结果",
    completed: "完成检查", non_cooperation: "不配合检查（R17）", closed: "企业已关闭/停业", not_found: "企业无法找到",
    reason: "情形", refused_entry: "拒绝进入", refused_materials: "拒绝提供材料", false_materials: "提供虚假或不完整材料",
    obstruction: "其他阻碍致无法检查", signatures: "签名", signInspector: "检查人员签名", signEnterprise: "企业负责人签名",
    saveSignature: "保存签名", refuse: "拒绝签名", refused: "已拒绝签名", signed: "已签名", clear: "清除",
    overdue: "已逾期", dueToday: "今天到期", previous: "以往检查发现的隐患",
    hz_pending: "待整改", hz_rectifying: "整改中", hz_awaiting_review: "待复查", hz_closed: "已销号", returned: "组长退回修改", resubmit: "修改后重新提交", reinspection: "复查", reinspectHint: "逐项核实隐患整改情况；销号由组长审核后完成。",
    rectified: "已整改", notRectified: "未整改", closureNote: "复查情况",
    submit: "提交检查", submitted: "已提交", withdrawn: "任务已撤回或改派，本机记录将保留并上传",
    conflict: "与他人记录不一致，待组长处理", error: "未能上传",
    update: "新版本已就绪", updateNow: "更新", updateLater: "完成当前检查后可更新",
    serverError: "服务器出错，本次上传未被保存；本机数据全部保留，稍后自动重试。", someFailed: "项未能上传，原因见各项；其余已上传，稍后自动重试。",
    photoFailed: "照片未能上传", teamAnswered: "同组人员已答", dropPhoto: "移除此照片",
    badPhoto: "无法读取该照片（不是图片或文件过大），未保存",
    loginAgain: "登录已过期，请重新登录；本机数据不会丢失。", notServer: "网络异常（可能是需要登录的Wi-Fi），稍后重试。",
    items: "项", group: "检查组", lang: "English",
  },
  en: {
    title: "Inspections", login: "Sign in", username: "Username", password: "Password", tasks: "My tasks", sync: "Sync now",
    never: "Never synced", lastSync: "Last sync", pending: "to send", offline: "offline", online: "online",
    insecure: "This connection is not secure (no HTTPS): offline use, crypto and persistent storage are unavailable.",
    persisted: "Storage is persistent", notPersisted: "The browser may clear storage: add the app to the home screen", free: "Free",
    lowSpace: "The phone is low on storage: sync soon", noTasks: "No tasks. Sync while online to download them.",
    due: "Due", answered: "answered", back: "‹ Tasks", checkin: "Check in", checkedIn: "Checked in",
    yes: "Complies", no: "Fails", na: "N/A", note: "Note", photo: "Photo", hint: "What to check", basis: "Basis",
    hazard: "Record hazard", general: "General hazard", major: "Major accident hazard", description: "Description",
    deadline: "Suggested deadline", saveHazard: "Save hazard", hazards: "Hazards", outcome: "Outcome",
    completed: "Inspection completed", non_cooperation: "Non-cooperation (R17)", closed: "Closed / suspended", not_found: "Not found",
    reason: "Reason", refused_entry: "Refused entry", refused_materials: "Refused materials", false_materials: "False or incomplete materials",
    obstruction: "Other obstruction", signatures: "Signatures", signInspector: "Inspector", signEnterprise: "Enterprise's responsible person",
    saveSignature: "Save signature", refuse: "Refused to sign", refused: "Refused to sign", signed: "Signed", clear: "Clear",
    overdue: "Overdue", dueToday: "Due today", previous: "Hazards found by earlier inspections",
    hz_pending: "To rectify", hz_rectifying: "Being rectified", hz_awaiting_review: "Awaiting re-inspection", hz_closed: "Closed", returned: "Returned by the team lead", resubmit: "Submit again after correcting", reinspection: "Re-inspection",
    reinspectHint: "Check each hazard on site; the team lead's review closes it.", rectified: "Rectified",
    notRectified: "Not rectified", closureNote: "What you found",
    submit: "Submit inspection", submitted: "Submitted", withdrawn: "Task withdrawn or reassigned; local work is kept and sent",
    conflict: "Differs from another record; the team lead decides", error: "Not sent",
    update: "A new version is ready", updateNow: "Update", updateLater: "Update after this inspection",
    serverError: "The server failed and kept nothing of this upload; everything stays on the phone and is sent again later.",
    someFailed: "item(s) not sent, reasons shown on each; the rest went through; will retry.", photoFailed: "Photo not sent",
    teamAnswered: "Answered by a colleague", dropPhoto: "Remove this photo",
    badPhoto: "Cannot read this photo (not an image, or too large); not kept",
    loginAgain: "Your sign-in expired; sign in again. Nothing on the phone is lost.", notServer: "Network problem (perhaps a Wi-Fi login page); will retry.",
    items: "items", group: "Group", lang: "中文",
  },
}[LANG];

const $ = (sel, root = document) => root.querySelector(sel);
const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const uuid = () => crypto.randomUUID();
const nowIso = () => new Date().toISOString();
let registration = null;
let updating = false;
let renderGen = 0;  // renders are async (IndexedDB): a slower, older one must never paint over a newer one  // true once the inspector accepted a new version: only then does a new worker reload the page

// --- saving ---------------------------------------------------------------------------------

async function saveRecord(kind, taskId, data, existing = null, photos = []) {
  const record = existing
    ? {...existing, data, dirty: 1, editSeq: (existing.editSeq || 0) + 1, device_time: nowIso(), error: null, nextTry: 0}
    : {uuid: uuid(), kind, task_id: taskId, data, base_revision: 0, revision: 0, dirty: 1, editSeq: 1, device_time: nowIso()};
  await S.saveRecord(record, photos);
  scheduleSync();
  return record;
}

async function recordsOf(taskId) { return S.all("records", "task_id", taskId); }

async function me() { return (await S.get("kv", "user")) || {}; }

// --- sync -------------------------------------------------------------------------------------

const MAX_PHOTO_BYTES = 40 * 1024 * 1024;  // a camera file larger than this is refused before decoding

let syncTimer = null;
function scheduleSync(delay = 1500) {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(() => { if (navigator.onLine) doSync(); }, delay);
  if (registration && "SyncManager" in window) registration.sync.register("ssj-sync").catch(() => {});
}

async function doSync(force = false) {
  const bar = $("#progress"), status = $("#sync-status");
  bar.hidden = false;
  try {
    const done = await self.ssjSync.syncOnce(p => {
      bar.max = Math.max(1, p.itemsTotal); bar.value = p.items;
      status.textContent = `${p.items}/${p.itemsTotal} ${T.items} · ${(p.bytes / 1024).toFixed(0)}/${(p.bytesTotal / 1024).toFixed(0)} KB`;
    }, force);
    if (!(await showFailures()) && done.errors === 0) showMessage("");
    if (done.errors) scheduleSync(60000);  // the failed items' backoff decides when each goes again
  } catch (e) {
    if (e instanceof self.ssjSync.AuthNeeded) { showMessage(T.loginAgain); route("#/login"); return; }
    showMessage(e instanceof self.ssjSync.NotOurServer ? T.notServer
      : e instanceof self.ssjSync.ServerFailed ? T.serverError : `${T.error}: ${e.message || e}`);
    scheduleSync(60000);
  } finally {
    bar.hidden = true;
    await renderStatus();
    if (!location.hash.startsWith("#/login")) await render();
  }
}

// What still fails, whichever ran the sync (this page, or the service worker's Background Sync).
async function showFailures() {
  const records = (await S.all("records", "dirty", 1)).filter(r => r.error);
  const photos = (await S.all("photos", "uploaded", 0)).filter(p => p.error);
  if (!records.length && !photos.length) return false;
  showMessage(records.some(r => r.error.server) ? T.serverError : `${records.length + photos.length} ${T.someFailed}`);
  return true;
}

async function renderStatus() {
  const last = await S.get("kv", "lastSync");
  const pending = (await S.all("records", "dirty", 1)).length + (await S.all("photos", "uploaded", 0)).length;
  $("#sync-status").textContent = `${navigator.onLine ? T.online : T.offline} · ` +
    (last ? `${T.lastSync} ${new Date(last.at).toLocaleString()}` : T.never) + ` · ${T.pending} ${pending}`;
  $("#sync-status").dataset.pending = pending;
}

function showMessage(text) {
  const box = $("#message"); box.textContent = text; box.hidden = !text;
}

// --- views ------------------------------------------------------------------------------------

function route(hash) { if (location.hash !== hash) location.hash = hash; else render(); }

async function render() {
  const token = await S.get("kv", "token");
  const view = $("#view");
  const hash = location.hash || "#/tasks";
  if (!token || hash.startsWith("#/login")) return renderLogin(view);
  const m = hash.match(/^#\/task\/(\d+)/);
  if (m) return renderTask(view, Number(m[1]));
  return renderTasks(view);
}

function renderLogin(view) {
  ++renderGen;
  view.innerHTML = `<form id="login" class="card"><h1>${T.login}</h1>
    <label for="u">${T.username}</label><input id="u" autocomplete="username" required>
    <label for="p">${T.password}</label><input id="p" type="password" autocomplete="current-password" required>
    <button type="submit">${T.login}</button></form>`;
  $("#login").onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      const r = await fetch("/api/v1/token", {method: "POST", headers: {"Content-Type": "application/json"}, credentials: "omit",
        body: JSON.stringify({username: $("#u").value, password: $("#p").value, device: navigator.userAgent.slice(0, 100)})});
      const body = (r.headers.get("Content-Type") || "").includes("json") ? await r.json() : {};
      if (!r.ok || !body.token) return showMessage(body.message || T.notServer);
      await S.put("kv", body.token, "token");
      await S.put("kv", body.user, "user");
      showMessage("");
      location.hash = "#/tasks";
      await doSync();
    } catch (e) { showMessage(T.notServer); }
  };
}

async function renderTasks(view) {
  const gen = ++renderGen;
  const tasks = (await S.all("tasks")).sort((a, b) => (a.due_date < b.due_date ? -1 : 1));
  const today = new Date().toLocaleDateString("sv-SE", {timeZone: "Asia/Shanghai"});  // deadlines are Shanghai dates
  const html = [];
  for (const t of tasks) {
    const recs = await recordsOf(t.id);
    const total = t.checklists.reduce((n, c) => n + c.questions.length, 0);
    const answered = new Set(recs.filter(r => r.kind === "answer" && r.data.result).map(r => r.data.question)).size;
    const done = recs.some(r => r.kind === "outcome");
    html.push(`<li class="card task"><a href="#/task/${t.id}"><b>${esc(t.enterprise.name)}</b></a>
      <div class="muted">${esc(t.enterprise.region)} · ${esc(t.enterprise.address)}</div>
      <div>${T.due} ${esc(t.due_date)} · ${T.answered} ${answered}/${total}${done ? ` · <span class="tag good">${T.submitted}</span>` : ""}
      ${t.withdrawn ? `<span class="tag warn">${T.withdrawn}</span>` : ""}
      ${t.kind === "reinspection" ? `<span class="tag warn">${T.reinspection}</span>` : ""}
      ${!done && t.due_date < today ? `<span class="tag bad">${T.overdue}</span>` : !done && t.due_date === today ? `<span class="tag warn">${T.dueToday}</span>` : ""}
      ${t.review && t.review.state === "returned" ? `<span class="tag bad">${T.returned}</span>` : ""}</div></li>`);
  }
  if (gen !== renderGen) return;
  view.innerHTML = `<h1>${T.tasks}</h1>` + (html.length ? `<ul class="tasks">${html.join("")}</ul>` : `<p class="card">${T.noTasks}</p>`);
}

function questionCard(task, checklist, q, rec, photoUrls) {
  const r = rec ? rec.data : {};
  const status = rec ? (rec.error ? `<span class="tag bad">${T.error}: ${esc(reasons(rec.error))}</span>`
    : rec.conflict ? `<span class="tag warn">${T.conflict}</span>` : rec.dirty ? `<span class="tag">${T.pending}</span>` : `<span class="tag good">✓</span>`) : "";
  const choices = ["yes", "no", "na"].map(v => `<button type="button" class="choice ${r.result === v ? "on " + v : ""}" data-q="${esc(q.id)}" data-v="${v}" aria-pressed="${r.result === v}">${T[v]}</button>`).join("");
  const theirs = !rec && (task.records || []).find(x => x.kind === "answer" && x.data.question === q.id);
  const team = theirs ? `<span class="tag">${T.teamAnswered}: ${T[theirs.data.result] || ""}</span>` : "";
  const thumbs = (r.photos || []).map(sha => `<img class="thumb" alt="" src="${photoUrls[sha] || ""}">` +
    (photoUrls["error:" + sha] ? `<span class="tag bad photo-error">${T.photoFailed}: ${esc(photoUrls["error:" + sha])}</span>
      <button type="button" class="secondary drop-photo" data-sha="${sha}">${T.dropPhoto}</button>` : "")).join("");
  return `<article class="card question" id="q-${esc(q.id)}" data-checklist="${esc(checklist.code)}@${esc(checklist.version)}">
    <div class="qtext"><b>${esc(q.id)}</b> ${esc(q.text)} ${status}${team}</div>
    <details><summary>${T.basis} · ${T.hint}</summary><p class="muted">${esc(q.basis)}</p><p>${esc(q.hint || "")}</p></details>
    <div class="choices">${choices}</div>
    <input class="note" data-q="${esc(q.id)}" placeholder="${T.note}" value="${esc(r.note || "")}">
    <div class="photos">${thumbs}<label class="button secondary">${T.photo}<input type="file" accept="image/*" capture="environment" data-q="${esc(q.id)}" class="photo-input" hidden></label></div>
    ${r.result === "no" ? `<button type="button" class="secondary add-hazard" data-q="${esc(q.id)}" data-grade="${esc(q.hazard_grade || "general")}">${T.hazard}</button>` : ""}
  </article>`;
}

// The server's per-field reasons ({field: [messages]}) as one line.
function reasons(error) {
  return typeof error === "string" ? error : Object.values(error).flat().join("；");
}

async function photoUrlMap(recs) {
  const out = {};
  for (const rec of recs) for (const sha of [...(rec.data.photos || []), rec.data.image].filter(Boolean)) {
    const p = await S.get("photos", sha);
    if (p) out[sha] = URL.createObjectURL(p.blob);
    if (p && p.error) out["error:" + sha] = p.error;
  }
  return out;
}

async function renderTask(view, taskId) {
  const gen = ++renderGen;
  const task = await S.get("tasks", taskId);
  if (!task) return route("#/tasks");
  const recs = await recordsOf(taskId);
  const urls = await photoUrlMap(recs);
  const answers = Object.fromEntries(recs.filter(r => r.kind === "answer").map(r => [r.data.question, r]));
  const checkin = recs.find(r => r.kind === "checkin");
  const outcome = recs.find(r => r.kind === "outcome");
  const hazards = recs.filter(r => r.kind === "hazard");
  const user = await me();
  const sigs = recs.filter(r => r.kind === "signature");
  const questions = task.checklists.map(c => `<h2>${esc(c.title)} <code>${esc(c.code)}@${esc(c.version)}</code></h2>` +
    c.questions.map(q => questionCard(task, c, q, answers[q.id], urls)).join("")).join("");
  const hazardList = hazards.map(h => `<li class="card"><span class="tag ${h.data.grade === "major" ? "bad" : "warn"}">${T[h.data.grade]}</span>
    ${esc(h.data.question || "")} ${esc(h.data.description)} ${h.data.deadline ? `· ${esc(h.data.deadline)}` : ""} ${h.dirty ? `<span class="tag">${T.pending}</span>` : `<span class="tag good">✓</span>`}</li>`).join("");
  const sigRow = (role, label, inspectorId) => {
    const s = sigs.find(x => x.data.role === role && (role === "enterprise" || x.data.inspector_id === inspectorId));
    const state = s ? (s.data.refused ? `<span class="tag warn">${T.refused}</span>` : `<img class="sig" alt="" src="${urls[s.data.image] || ""}"> <span class="tag good">${T.signed}</span>`) : "";
    return `<div class="card signature" data-role="${role}" data-inspector="${inspectorId || ""}"><b>${esc(label)}</b> ${state}
      <canvas width="320" height="120" class="pad"></canvas>
      <div class="actions"><button type="button" class="save-sig">${T.saveSignature}</button><button type="button" class="secondary clear-sig">${T.clear}</button>
      ${role === "enterprise" ? `<button type="button" class="secondary refuse-sig">${T.refuse}</button>` : ""}</div></div>`;
  };
  const mine = task.members.find(m => m.inspector_id === user.inspector_id);
  const closures = Object.fromEntries(recs.filter(r => r.kind === "closure").map(r => [r.data.hazard, r]));
  // Returned by the team lead, and not yet submitted again from this phone.
  const returned = task.review && task.review.state === "returned" && !(outcome && outcome.dirty);
  if (gen !== renderGen) return;
  view.innerHTML = `<p><a href="#/tasks">${T.back}</a></p>
    <h1>${esc(task.enterprise.name)}</h1>
    ${task.withdrawn ? `<p class="flash warn">${T.withdrawn}</p>` : ""}
    ${returned ? `<p class="flash warn" id="returned">${T.returned}: ${esc(task.review.comment)}</p>` : ""}
    <dl class="facts card"><dt>USCC</dt><dd><code>${esc(task.uscc)}</code></dd><dt>${T.due}</dt><dd>${esc(task.due_date)}</dd>
      <dt>${T.group}</dt><dd>${task.members.map(m => esc(m.name) + " " + esc(m.cert_no)).join("、")}</dd></dl>
    <div class="actions"><button type="button" id="checkin" class="${checkin ? "secondary" : ""}">${checkin ? T.checkedIn + " " + new Date(checkin.device_time).toLocaleTimeString() : T.checkin}</button></div>
    ${questions}
    ${task.kind === "reinspection" ? `<h2>${T.reinspection}</h2><p class="muted">${T.reinspectHint}</p>` +
      (task.hazards || []).map(h => closureCard(h, closures[h.uuid], urls)).join("") : ""}
    ${(task.previous || []).length ? `<details class="card previous"><summary>${T.previous} (${task.previous.length})</summary><ul>` +
      task.previous.map(p => `<li>${esc(p.found_on)} <span class="tag ${p.grade === "major" ? "bad" : "warn"}">${T[p.grade] || ""}</span>
        ${esc(p.description)} <span class="tag ${p.status === "closed" ? "good" : ""}">${T["hz_" + p.status] || ""}</span></li>`).join("") + "</ul></details>" : ""}
    <h2>${T.hazards}</h2><ul class="hazards">${hazardList}</ul>
    <form id="hazard-form" class="card" hidden><input type="hidden" id="hz-q">
      <label for="hz-grade">${T.hazard}</label><select id="hz-grade"><option value="general">${T.general}</option><option value="major">${T.major}</option></select>
      <label for="hz-desc">${T.description}</label><textarea id="hz-desc" required></textarea>
      <label for="hz-deadline">${T.deadline}</label><input id="hz-deadline" type="date">
      <button type="submit">${T.saveHazard}</button></form>
    <h2>${T.outcome}</h2>
    <div class="card"><label for="outcome">${T.outcome}</label><select id="outcome">
      ${["completed", "non_cooperation", "closed", "not_found"].map(o => `<option value="${o}" ${outcome && outcome.data.outcome === o ? "selected" : ""}>${T[o]}</option>`).join("")}</select>
      <label for="reason">${T.reason}</label><select id="reason"><option value="">—</option>
      ${["refused_entry", "refused_materials", "false_materials", "obstruction"].map(o => `<option value="${o}" ${outcome && outcome.data.reason === o ? "selected" : ""}>${T[o]}</option>`).join("")}</select></div>
    <h2>${T.signatures}</h2>
    ${mine ? sigRow("inspector", `${T.signInspector} ${mine.name}`, mine.inspector_id) : ""}
    ${sigRow("enterprise", T.signEnterprise, null)}
    <div class="actions"><button type="button" id="submit">${returned ? T.resubmit : outcome ? T.submitted + " ✓" : T.submit}</button></div>`;
  wireTask(view, task, checkin, outcome);
}

function wireTask(view, task, checkin, outcome) {
  const refresh = () => renderTask(view, task.id).then(renderStatus);
  view.querySelectorAll("article.question").forEach(card => wireCard(card, task));
  view.querySelectorAll("article.closure").forEach(card => wireClosure(card, task, refresh));
  $("#hazard-form").onsubmit = async ev => {
    ev.preventDefault();
    const q = $("#hz-q").value;
    const source = (await recordsOf(task.id)).find(r => r.kind === "answer" && r.data.question === q);
    await saveRecord("hazard", task.id, {question: q || null, grade: $("#hz-grade").value, description: $("#hz-desc").value,
      deadline: $("#hz-deadline").value || null, photos: (source && source.data.photos) || []});
    refresh();
  };
  $("#checkin").onclick = async () => {
    if (checkin) return;
    const where = await self.ssjPhoto.position();
    await saveRecord("checkin", task.id, where || {});
    refresh();
  };
  view.querySelectorAll(".signature").forEach(box => wireSignature(box, task));
  $("#submit").onclick = async () => {
    // The submission time makes a second submission (after a return) a new revision, not a no-op.
    const data = {outcome: $("#outcome").value, reason: $("#reason").value || null, submitted_at: nowIso()};
    await saveRecord("outcome", task.id, data, outcome);
    refresh();
  };
}

// Re-inspection (复查): per hazard, rectified or not, with a note and photos; the closure is one record.
function closureCard(h, rec, urls) {
  const r = rec ? rec.data : {};
  const status = rec ? (rec.error ? `<span class="tag bad">${T.error}: ${esc(reasons(rec.error))}</span>`
    : rec.dirty ? `<span class="tag">${T.pending}</span>` : `<span class="tag good">✓</span>`) : "";
  const pick = (v, label) => `<button type="button" class="choice ${r.rectified === v ? "on " + (v ? "yes" : "no") : ""}" data-v="${v}" aria-pressed="${r.rectified === v}">${label}</button>`;
  return `<article class="card closure" id="h-${esc(h.uuid)}">
    <div><span class="tag ${h.grade === "major" ? "bad" : "warn"}">${T[h.grade] || ""}</span> ${esc(h.question || "")} ${esc(h.description)}
      ${h.deadline ? `· ${esc(h.deadline)}` : ""} ${status}</div>
    <div class="choices">${pick(true, T.rectified)}${pick(false, T.notRectified)}</div>
    <input class="note" placeholder="${T.closureNote}" value="${esc(r.note || "")}" ${rec ? "" : "disabled"}>
    <div class="photos">${(r.photos || []).map(sha => `<img class="thumb" alt="" src="${urls[sha] || ""}">`).join("")}
      <label class="button secondary ${rec ? "" : "disabled"}">${T.photo}<input type="file" accept="image/*" capture="environment" class="photo-input" hidden ${rec ? "" : "disabled"}></label></div>
  </article>`;
}

function wireClosure(card, task, refresh) {
  const hazard = card.id.slice(2);
  const save = async (change, photos = []) => {
    const prev = (await recordsOf(task.id)).find(r => r.kind === "closure" && r.data.hazard === hazard);
    const base = prev ? prev.data : {hazard, rectified: null, note: "", photos: []};
    const data = {...base, ...change(base)};
    if (data.rectified === null) return;  // the verdict comes first (note and photo are enabled after it)
    await saveRecord("closure", task.id, data, prev, photos);
    refresh();
  };
  card.querySelectorAll("button.choice").forEach(b => b.onclick = () => save(() => ({rectified: b.dataset.v === "true"})));
  card.querySelector("input.note").onchange = ev => save(() => ({note: ev.target.value}));
  card.querySelector("input.photo-input").onchange = async ev => {
    const photos = [];
    for (const file of ev.target.files) {
      try {
        if (file.size > MAX_PHOTO_BYTES) throw new Error("too large");
        const p = await self.ssjPhoto.preparePhoto(file, [new Date().toLocaleString("zh-CN", {hour12: false}), task.enterprise.name]);
        photos.push({sha: p.sha, blob: p.blob, size: p.size, uploaded: 0, task_id: task.id, taken_at: nowIso()});
      } catch (e) { showMessage(`${T.badPhoto}: ${file.name}`); }
    }
    if (photos.length) await save(base => ({photos: [...(base.photos || []), ...photos.map(p => p.sha)]}), photos);
  };
}

// One question card: answering re-renders that card only, so a 150-question checklist stays quick.
function wireCard(card, task) {
  const q = card.id.slice(2), checklist = card.dataset.checklist;
  const current = async () => (await recordsOf(task.id)).find(r => r.kind === "answer" && r.data.question === q);
  const save = async (change, photos = []) => {
    const prev = await current();
    const base = prev ? prev.data : {question: q, checklist, photos: []};
    await saveRecord("answer", task.id, {...base, question: q, checklist, ...change(base)}, prev, photos);
    await updateCard(card, task, q);
    renderStatus();
  };
  card.querySelectorAll("button.choice").forEach(b => b.onclick = () => {
    // Show the choice at once; the IndexedDB write follows within milliseconds and the card re-renders.
    card.querySelectorAll("button.choice").forEach(x => { x.className = "choice"; x.setAttribute("aria-pressed", "false"); });
    b.className = `choice on ${b.dataset.v}`; b.setAttribute("aria-pressed", "true");
    return save(() => ({result: b.dataset.v}));
  });
  card.querySelector("input.note").onchange = ev => save(() => ({note: ev.target.value}));
  card.querySelector("input.photo-input").onchange = async ev => {
    const where = await self.ssjPhoto.position(1500);
    const photos = [];
    for (const file of ev.target.files) {
      const lines = [new Date().toLocaleString("zh-CN", {hour12: false}), task.enterprise.name, (await me()).name || "",
                     where ? `${where.lat.toFixed(5)}, ${where.lng.toFixed(5)}` : ""].filter(Boolean);
      let p;
      try {
        if (file.size > MAX_PHOTO_BYTES) throw new Error("too large");
        p = await self.ssjPhoto.preparePhoto(file, lines);
      } catch (e) {
        showMessage(`${T.badPhoto}: ${file.name}`);  // not an image the phone can read; nothing stored
        continue;
      }
      photos.push({sha: p.sha, blob: p.blob, size: p.size, uploaded: 0, task_id: task.id, taken_at: nowIso(), where});
    }
    ev.target.value = "";
    if (photos.length) await save(base => ({photos: [...new Set([...(base.photos || []), ...photos.map(p => p.sha)])]}), photos);
  };
  // A photo the server refused for good (not an image, too large) can be taken out of the answer.
  card.querySelectorAll("button.drop-photo").forEach(b => b.onclick = async () => {
    await save(base => ({photos: (base.photos || []).filter(sha => sha !== b.dataset.sha)}));
    if (!(await S.all("records")).some(r => [...(r.data.photos || []), r.data.image].includes(b.dataset.sha))) {
      await S.del("photos", b.dataset.sha);
    }
    renderStatus();
  });
  const hz = card.querySelector("button.add-hazard");
  if (hz) hz.onclick = () => {
    const form = $("#hazard-form"); form.hidden = false; $("#hz-q").value = q;
    $("#hz-grade").value = hz.dataset.grade === "major" ? "major" : "general"; $("#hz-desc").focus();
  };
}

async function updateCard(card, task, q) {
  const rec = (await recordsOf(task.id)).find(r => r.kind === "answer" && r.data.question === q);
  const [code, version] = card.dataset.checklist.split("@");
  const checklist = task.checklists.find(c => c.code === code && String(c.version) === version);
  const question = checklist.questions.find(x => x.id === q);
  const holder = document.createElement("div");
  holder.innerHTML = questionCard(task, checklist, question, rec, await photoUrlMap(rec ? [rec] : []));
  const fresh = holder.firstElementChild;
  card.replaceWith(fresh);
  wireCard(fresh, task);
}

function wireSignature(box, task) {
  const canvas = box.querySelector("canvas"), ctx = canvas.getContext("2d");
  let drawing = false, drawn = false;
  ctx.lineWidth = 2.5; ctx.lineCap = "round";
  const at = ev => { const r = canvas.getBoundingClientRect(); return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height]; };
  canvas.onpointerdown = ev => { drawing = true; drawn = true; canvas.dataset.drawn = "1"; canvas.setPointerCapture(ev.pointerId); ctx.beginPath(); ctx.moveTo(...at(ev)); };
  canvas.onpointermove = ev => { if (drawing) { ctx.lineTo(...at(ev)); ctx.stroke(); } };
  canvas.onpointerup = () => { drawing = false; };
  box.querySelector(".clear-sig").onclick = () => { ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; };
  const role = box.dataset.role, inspectorId = box.dataset.inspector ? Number(box.dataset.inspector) : null;
  const existing = async () => (await recordsOf(task.id)).find(x => x.kind === "signature" && x.data.role === role && (role === "enterprise" || x.data.inspector_id === inspectorId));
  box.querySelector(".save-sig").onclick = async () => {
    if (!drawn) return;
    const blob = await new Promise(r => canvas.toBlob(r, "image/png"));
    const sha = await self.ssjPhoto.sha256Hex(blob);
    await saveRecord("signature", task.id, {role, inspector_id: inspectorId, name: null, refused: false, image: sha},
                     await existing(), [{sha, blob, size: blob.size, uploaded: 0, task_id: task.id}]);
    renderTask($("#view"), task.id);
  };
  const refuse = box.querySelector(".refuse-sig");
  if (refuse) refuse.onclick = async () => {
    await saveRecord("signature", task.id, {role, inspector_id: null, name: null, refused: true, image: null}, await existing());
    renderTask($("#view"), task.id);
  };
}

// --- storage, updates, start ---------------------------------------------------------------------

async function storageInfo() {
  const box = $("#storage");
  if (!navigator.storage) return;
  const persisted = navigator.storage.persist ? await navigator.storage.persist().catch(() => false) : false;
  const est = navigator.storage.estimate ? await navigator.storage.estimate() : null;
  const free = est ? (est.quota - est.usage) : null;
  box.textContent = `${persisted ? T.persisted : T.notPersisted}` + (free !== null ? ` · ${T.free} ${(free / 1048576).toFixed(0)} MB` : "");
  box.dataset.persisted = persisted;
  if (free !== null && free < 100 * 1048576) { box.classList.add("warn"); box.textContent += ` · ${T.lowSpace}`; }
}

function offerUpdate(worker) {
  const box = $("#update");
  const busy = location.hash.startsWith("#/task/");
  box.hidden = false;
  box.innerHTML = `${T.update} ` + (busy ? `<span class="muted">${T.updateLater}</span>` : `<button type="button" id="apply-update">${T.updateNow}</button>`);
  const btn = $("#apply-update");
  if (btn) btn.onclick = () => { updating = true; worker.postMessage({type: "SKIP_WAITING"}); };
}

async function start() {
  document.title = T.title;
  $("#brand").textContent = T.title;
  $("#sync-now").textContent = T.sync;
  $("#lang").textContent = T.lang;
  $("#lang").onclick = () => { localStorage.setItem("ssj-lang", LANG === "en" ? "zh" : "en"); location.reload(); };
  if (!window.isSecureContext) { $("#insecure").hidden = false; $("#insecure").textContent = T.insecure; }
  if ("serviceWorker" in navigator && window.isSecureContext) {
    registration = await navigator.serviceWorker.register("/app/sw.js", {scope: "/app/"});
    const watch = w => w && w.addEventListener("statechange", () => { if (w.state === "installed" && navigator.serviceWorker.controller) offerUpdate(w); });
    if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
    if (registration.installing) watch(registration.installing);  // an update already under way at load
    registration.addEventListener("updatefound", () => watch(registration.installing));
    // The first install also changes the controller (clients.claim): that must not reload a page being used.
    navigator.serviceWorker.addEventListener("controllerchange", () => { if (updating) { updating = false; location.reload(); } });
    navigator.serviceWorker.addEventListener("message", ev => { if (ev.data && ev.data.type === "SYNCED") { renderStatus(); showFailures(); render(); } });
  }
  $("#sync-now").onclick = () => doSync(true);
  window.addEventListener("online", () => doSync());
  window.addEventListener("offline", () => renderStatus());
  window.addEventListener("hashchange", () => render());
  await render();
  await renderStatus();
  storageInfo();
  if (navigator.onLine && await S.get("kv", "token")) doSync();  // sync on open
}

start();
