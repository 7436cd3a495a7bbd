// The inspector's offline app: task list, checklist, photos, hazards, outcome, signatures.
// Every change is saved to IndexedDB at once (no save button); sync runs on open, on `online`,
// by Background Sync where the browser has it, and on the 立即同步 button.
//
// Three rules keep the inspector's work safe (issue #10):
// - Writes go one at a time (`serial`), each with one edit id per intent, so a double tap or two quick
//   edits never make a second record or lose the first edit.
// - A background refresh (after a sync) never rewrites what the inspector may be typing: the task page's
//   input-free regions are "slots" (`data-slot`), and only those are patched. Events are delegated, so
//   a patched slot needs no rewiring.
// - A write the phone could not store (full storage) is reported with what was not saved and what to do.
"use strict";

const S = self.ssjStore;
const LANG = (localStorage.getItem("ssj-lang") || (navigator.language || "zh").slice(0, 2)) === "en" ? "en" : "zh";
const T = {
  zh: {
    title: "双随机检查", login: "登录", username: "用户名", password: "密码", tasks: "我的任务", sync: "立即同步", syncing: "同步中…",
    never: "尚未同步", lastSync: "上次同步", pending: "待上传", offline: "离线",
    st_saved: "已保存在手机", st_waiting: "等待网络", st_uploading: "正在上传", st_synced: "已全部上传到服务器",
    insecure: "当前连接不安全（不是HTTPS）：无法离线使用，也不能安装到主屏幕。请用 https:// 开头的地址打开。",
    persisted: "存储已设为持久", notPersisted: "存储可能被浏览器清理，请将应用添加到主屏幕", free: "可用空间",
    lowSpace: "手机存储空间不足，请尽快同步并清理手机空间", noTasks: "没有任务。联网后点“立即同步”下载任务。",
    due: "截止", answered: "已答", back: "‹ 任务", checkin: "签到", checkedIn: "已签到",
    yes: "符合", no: "不符合", na: "不涉及", note: "备注", photo: "拍照", hint: "检查要点", basis: "依据",
    hazard: "登记隐患", general: "一般事故隐患", major: "重大事故隐患", description: "隐患描述",
    deadline: "建议整改期限", saveHazard: "保存隐患", hazards: "隐患", outcome: "检查结果", cancel: "取消",
    completed: "完成检查", non_cooperation: "不配合检查", closed: "企业已关闭/停业", not_found: "企业无法找到",
    reason: "情形", refused_entry: "拒绝进入", refused_materials: "拒绝提供材料", false_materials: "提供虚假或不完整材料",
    obstruction: "其他阻碍致无法检查", signatures: "签名", signInspector: "检查人员签名", signEnterprise: "企业负责人签名",
    saveSignature: "保存签名", refuse: "拒绝签名", refused: "已拒绝签名", signed: "已签名", unsigned: "未签名", clear: "清除",
    overdue: "已逾期", dueToday: "今天到期", previous: "以往检查发现的隐患",
    hz_pending: "待整改", hz_rectifying: "整改中", hz_awaiting_review: "待复查", hz_closed: "已销号", returned: "组长退回修改", resubmit: "修改后重新提交", reinspection: "复查", reinspectHint: "逐项核实隐患整改情况；销号由组长审核后完成。",
    rectified: "已整改", notRectified: "未整改", closureNote: "复查情况",
    submit: "提交检查", submitted: "已提交", submittedPending: "已提交 · 待上传", approved: "已审核，待公示", published: "结果已公示", reinspectionApproved: "复查已审核", inProgress: "检查中",
    withdrawn: "任务已撤回或改派，本机记录将保留并上传",
    conflict: "与同组人员的记录不一致，待组长处理", error: "未能上传", waitingPhoto: "等待照片上传",
    update: "新版本已就绪", updateNow: "更新", updateLater: "完成当前检查后可更新",
    serverError: "服务器出错，本次上传未被保存；本机数据全部保留，稍后自动重试。", someFailed: "项未能上传，原因见各项；其余已上传，稍后自动重试。",
    photoFailed: "照片未能上传", teamAnswered: "同组人员已答", dropPhoto: "移除此照片", colleague: "同组",
    photoTooBig: "照片「{name}」有 {mb} MB，超过 {max} MB 上限，未保存。请在相机设置中调低分辨率后重拍，或选择较小的照片。",
    photoUnreadable: "无法读取「{name}」：不是手机能打开的图片，未保存。请重新拍照，或选择 JPG、PNG 照片。",
    loginAgain: "登录已过期，请重新登录；本机数据不会丢失。", notServer: "网络异常（可能是需要登录的Wi-Fi）：请先在浏览器中登录该Wi-Fi；本机数据全部保留，稍后重试。",
    noNetwork: "没有网络或连接中断：数据都保存在手机上，有信号后自动上传。",
    serverDown: "服务器暂时无法访问（HTTP {status}）：数据都保存在手机上，稍后自动重试。",
    outcomeDiffers: "检查结果与同组人员不一致，统一后才能提交组长审核。", groupDiffers: "与同组人员不一致",
    needReason: "请选择不配合检查的具体情形。", hazardUnsaved: "正在登记的隐患还没有保存：请先保存或取消，再提交检查。", shortHazard: "请描述隐患（至少2个字）。",
    revisionConflict: "本机记录与服务器上的版本不一致，请选择保留哪一个：", mine: "本机", server: "服务器",
    frozen_submitted: "本次检查已提交，等待组长审核：组长退回修改前，记录不能再改。",
    frozen_approved: "本次检查已审核通过，记录已锁定，不能再改。",
    frozenTag: "未被服务器接受：检查已提交审核，修改保留在本机，退回后自动发送",
    frozenHeld: "条修改未被服务器接受：检查已提交审核或已通过。修改保留在本机，组长退回后自动发送。",
    setAside: "条修改未被采纳：检查已审核通过。修改内容已在服务器留档，组长可在审核页查看；手机显示服务器的记录。",
    keepMine: "保留本机版本", takeServer: "采用服务器版本", seeAbove: "版本不一致，见页首", versionsDiffer: "版本不一致，待选择",
    superseded: "组长已采用同组人员的记录", finishHazard: "请先保存或取消正在填写的隐患。", relogin: "重新登录",
    otherUser: "本机还有{name}未上传的检查记录：请{name}登录并同步后，再换账号登录。", waitingRecords: "等待本检查其他记录上传后提交",
    fullStorage: "手机存储空间已满，刚才的操作未能保存到手机；已保存的内容不受影响。", fullStoragePhoto: "照片未保存，需要重拍。",
    fullStorageNext: "请联网点“立即同步”，再删除手机上不需要的文件后重试。", saveFailed: "未能保存到手机：",
    items: "项", group: "检查组", lang: "English", code: "统一社会信用代码", address: "地址", version: "版本", certNo: "执法证",
    frozen_local: "本次检查已在手机上提交，联网后自动上传，等待组长审核：组长退回修改前，记录不能再改。",
    awaitingReview: "已提交，等待组长审核", submitNote: "提交后记录锁定，等待组长审核；组长退回修改后才能再改。",
    confirmTitle: "确认提交检查？", incompleteTitle: "还有 {n} 处未完成", allDone: "全部 {n} 项检查项已作答，签到和签名已完成。",
    unanswered: "未作答的检查项（{n} 项），点击前往：", noPhoto: "要求拍照但还没有照片的检查项：", unchecked: "未复查的隐患（{n} 项）",
    missingCheckin: "尚未签到", missingSigInspector: "检查人员尚未签名", missingSigEnterprise: "企业负责人尚未签名，也未记录拒绝签名",
    confirmSubmit: "确认提交", submitAnyway: "仍然提交", keepEditing: "返回继续检查", confirmResubmit: "确认重新提交",
    hazardFor: "登记隐患：", hazardOther: "登记其他隐患", hazardOtherTitle: "登记隐患（不对应某一检查项）",
    grade: "隐患等级", pickGrade: "请选择隐患等级", needGrade: "请选择隐患等级。",
    suggest_major: "提示：本项对应重大事故隐患判定标准", suggest_general: "提示：检查表将本项列为一般事故隐患",
    hazardsHere: "本项已登记隐患", hazardNeeded: "不符合：如存在事故隐患，请登记",
    loadingTask: "正在下载任务…", taskNotHere: "该任务不在本机的任务列表中（可能已撤回或改派，或尚未同步）。",
    installNote: "安装到主屏幕：在浏览器菜单中选“添加到主屏幕”或“安装应用”，以后从桌面图标打开，没有网络也能检查。",
    installNow: "安装到主屏幕", gotIt: "知道了",
  },
  en: {
    title: "Inspections", login: "Sign in", username: "Username", password: "Password", tasks: "My tasks", sync: "Sync now", syncing: "Syncing…",
    never: "Never synced", lastSync: "Last sync", pending: "to send", offline: "Offline",
    st_saved: "Saved on the phone", st_waiting: "Waiting for signal", st_uploading: "Uploading", st_synced: "All on the server",
    insecure: "This connection is not secure (no HTTPS): the app cannot work offline or be installed on the home screen. Open it at an https:// address.",
    persisted: "Storage is persistent", notPersisted: "The browser may clear storage: add the app to the home screen", free: "Free",
    lowSpace: "The phone is low on storage: sync and free some space soon", noTasks: "No tasks. Sync while online to download them.",
    due: "Due", answered: "answered", back: "‹ Tasks", checkin: "Check in", checkedIn: "Checked in",
    yes: "Complies", no: "Fails", na: "N/A", note: "Note", photo: "Photo", hint: "What to check", basis: "Basis",
    hazard: "Record hazard", general: "General hazard", major: "Major accident hazard", description: "Description",
    deadline: "Suggested deadline", saveHazard: "Save hazard", hazards: "Hazards", outcome: "Outcome", cancel: "Cancel",
    completed: "Inspection completed", non_cooperation: "Did not cooperate", closed: "Closed / suspended", not_found: "Not found",
    reason: "Reason", refused_entry: "Refused entry", refused_materials: "Refused materials", false_materials: "False or incomplete materials",
    obstruction: "Other obstruction", signatures: "Signatures", signInspector: "Inspector's signature", signEnterprise: "Signature of the enterprise's responsible person",
    saveSignature: "Save signature", refuse: "Refused to sign", refused: "Refused to sign", signed: "Signed", unsigned: "Not signed", clear: "Clear",
    overdue: "Overdue", dueToday: "Due today", previous: "Hazards found by earlier inspections",
    hz_pending: "To rectify", hz_rectifying: "Being rectified", hz_awaiting_review: "Awaiting re-inspection", hz_closed: "Closed", returned: "Returned by the team lead", resubmit: "Submit again after correcting", reinspection: "Re-inspection",
    reinspectHint: "Check each hazard on site; the team lead's review closes it.", rectified: "Rectified",
    notRectified: "Not rectified", closureNote: "What you found",
    submit: "Submit inspection", submitted: "Submitted", submittedPending: "Submitted · to send", approved: "Approved, not yet published", published: "Result published", reinspectionApproved: "Re-inspection approved", inProgress: "In progress",
    withdrawn: "Task withdrawn or reassigned; local work is kept and sent",
    conflict: "Differs from a colleague's record; the team lead decides", error: "Not sent", waitingPhoto: "Waiting for its photo",
    update: "A new version is ready", updateNow: "Update", updateLater: "Update after this inspection",
    serverError: "The server failed and kept nothing of this upload; everything stays on the phone and is sent again later.",
    someFailed: "item(s) not sent, reasons shown on each; the rest went through; will retry.", photoFailed: "Photo not sent",
    teamAnswered: "Answered by a colleague", dropPhoto: "Remove this photo", colleague: "Colleague",
    photoTooBig: "Photo “{name}” is {mb} MB, over the {max} MB limit; not kept. Lower the camera's resolution and take it again, or pick a smaller photo.",
    photoUnreadable: "Cannot read “{name}”: not an image the phone can open; not kept. Take the photo again, or pick a JPG or PNG.",
    loginAgain: "Your sign-in expired; sign in again. Nothing on the phone is lost.",
    notServer: "Network problem (perhaps a Wi-Fi login page): sign in to the Wi-Fi in the browser first; everything stays on the phone.",
    noNetwork: "No network, or the connection broke: everything is saved on the phone and is sent when there is signal.",
    serverDown: "The server cannot be reached right now (HTTP {status}): everything is saved on the phone; will retry.",
    outcomeDiffers: "Your outcome differs from a colleague's: agree on one before the team lead can review.", groupDiffers: "Differs from a colleague",
    needReason: "Choose how the enterprise did not cooperate.", hazardUnsaved: "The hazard you are recording is not saved yet: save or cancel it before submitting.", shortHazard: "Describe the hazard (at least 2 characters).",
    revisionConflict: "This phone's record differs from the server's version. Choose which one stays:", mine: "This phone", server: "Server",
    frozen_submitted: "This inspection was submitted and awaits the team lead's review: its records cannot change until the team lead returns it.",
    frozen_approved: "This inspection was approved: its records are locked and cannot change.",
    frozenTag: "Not taken by the server: the inspection is under review; kept on this phone, sent once returned",
    frozenHeld: "change(s) not taken by the server: the inspection was submitted or approved. They stay on this phone and go once the team lead returns it.",
    setAside: "change(s) not taken: the inspection was approved. The server keeps them on record for the team lead; the phone shows the server's records.",
    keepMine: "Keep this phone's", takeServer: "Take the server's", seeAbove: "Versions differ, see the top of the page",
    versionsDiffer: "Versions differ: choose one", superseded: "The team lead kept a colleague's record",
    finishHazard: "Save or cancel the hazard being written first.", relogin: "Sign in again",
    otherUser: "This phone holds {name}'s unsent work: {name} must sign in and sync before another account signs in.",
    waitingRecords: "Sent once the inspection's other records are on the server",
    fullStorage: "The phone's storage is full: the last action was not saved on the phone; what was saved before is safe.",
    fullStoragePhoto: "The photo was not kept: take it again.", fullStorageNext: "Sync now while online, then delete files you do not need and try again.",
    saveFailed: "Could not save on the phone: ",
    items: "items", group: "Group", lang: "中文", code: "Unified social credit code", address: "Address", version: "version", certNo: "card",
    frozen_local: "This inspection was submitted on the phone; it is sent when there is signal and awaits the team lead's review. Its records cannot change until the team lead returns it.",
    awaitingReview: "Submitted, awaiting the team lead's review", submitNote: "Once submitted, the records are locked for the team lead's review; they can change again only if the team lead returns the inspection.",
    confirmTitle: "Submit the inspection?", incompleteTitle: "{n} thing(s) not done yet", allDone: "All {n} questions answered; check-in and signatures done.",
    unanswered: "Questions not answered ({n}); tap one to go to it:", noPhoto: "Questions that need a photo and have none:", unchecked: "Hazards not re-checked ({n})",
    missingCheckin: "Not checked in", missingSigInspector: "The inspector has not signed", missingSigEnterprise: "The enterprise's responsible person has not signed, nor was a refusal recorded",
    confirmSubmit: "Submit", submitAnyway: "Submit anyway", keepEditing: "Back to the inspection", confirmResubmit: "Submit again",
    hazardFor: "Record a hazard: ", hazardOther: "Record another hazard", hazardOtherTitle: "Record a hazard (not tied to one question)",
    grade: "Grade", pickGrade: "Choose the grade", needGrade: "Choose the hazard's grade.",
    suggest_major: "Hint: this question matches the criteria for a major accident hazard", suggest_general: "Hint: the checklist lists this question as a general hazard",
    hazardsHere: "Hazards recorded here", hazardNeeded: "Fails: if there is a hazard, record it",
    loadingTask: "Downloading the task…", taskNotHere: "This task is not among the phone's tasks (withdrawn, reassigned, or not synced yet).",
    installNote: "Install on the home screen: in the browser menu choose “Add to Home screen” or “Install app”; then open it from its icon, with or without signal.",
    installNow: "Install on the home screen", gotIt: "Got it",
  },
}[LANG];

const $ = (sel, root = document) => root.querySelector(sel);
const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k]);
const uuid = () => crypto.randomUUID();
const nowIso = () => new Date().toISOString();
let registration = null;
let updating = false;  // true once the inspector accepted a new version: only then does a new worker reload the page
let renderGen = 0;  // renders are async (IndexedDB): a slower, older one must never paint over a newer one

// --- saving -----------------------------------------------------------------------------------

// One write at a time: every read-modify-write of a record runs after the previous one has finished.
// A Web Lock makes it one at a time across the app's tabs too (they share IndexedDB), and a message tells
// the other tabs to refresh what they show.
let saveChain = Promise.resolve();
const tabs = "BroadcastChannel" in self ? new BroadcastChannel("ssj-app") : null;
function serial(fn) {
  const locked = () => (navigator.locks ? navigator.locks.request("ssj-save", fn) : fn());
  const run = saveChain.then(locked);
  saveChain = run.catch(() => {});
  run.then(() => tabs && tabs.postMessage({type: "saved"})).catch(() => {});
  return run;
}

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().filter(k => value[k] !== undefined).map(k => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

// Save an edit (or a new record). Each edit gets its own id, and the phone remembers the ids it made: a
// server revision carrying one of them is this phone's own work, never a conflict (sync.js). Saving the
// same content again (a double tap) makes no edit at all. Returns the record, or null if the phone could
// not store it (the inspector has been told).
// Submitted (until the team lead returns it) or approved: the server takes no change (issue #11 point 1).
function frozenState(task) {
  const state = task && task.review && task.review.state;
  return state === "submitted" || state === "approved" ? state : null;
}

// Submitted on this phone: read-only at once, before the outcome reaches the server (issue #12 point 6),
// and until the team lead returns it. The outcome waits for the task's other records; if one of them was
// refused for its content, or a photo for good, the page opens again so that the inspector can correct it.
function lockState(task, all, photoRefused = false) {
  const frozen = frozenState(task);
  if (frozen) return frozen;
  const outcome = all.find(r => r.kind === "outcome");
  if (!outcome || !outcome.dirty) return null;
  // The outcome itself refused for its content counts too: otherwise the page would stay read-only with
  // nothing the inspector could change to get it accepted.
  const refused = all.some(r => r.dirty && r.error && !r.frozen && !r.error.server);
  return refused || photoRefused ? null : "local";
}

async function photoRefusedFor(taskId) {
  return (await S.all("photos", "uploaded", 0)).some(p => p.task_id === taskId && p.final && p.error);
}

// Called on every save, so it reads as little as it can: the lock depends only on the task's review state
// and on records still to send (a sent outcome locks nothing), and the photo queue (blobs) is read only
// when an unsent outcome exists (issue #12's note: reading every record and photo made a save ~3× slower).
async function lockOf(taskId) {
  const task = await S.get("tasks", taskId);
  const frozen = frozenState(task);
  if (frozen) return frozen;
  const unsent = (await S.all("records", "dirty", 1)).filter(r => r.task_id === taskId);
  if (!unsent.some(r => r.kind === "outcome")) return null;
  return lockState(task, unsent, await photoRefusedFor(taskId));
}

async function saveRecord(kind, taskId, data, existing = null, photos = [], id = null) {
  if (existing && canonical(existing.data) === canonical(data)) return existing;
  const frozen = await lockOf(taskId);
  if (frozen) { showMessage(T["frozen_" + frozen]); return null; }
  const edit = uuid();
  const record = existing
    ? {...existing, data, dirty: 1, editSeq: (existing.editSeq || 0) + 1, edit, edits: [...(existing.edits || []), edit].slice(-200),
       device_time: nowIso(), error: null, waiting: null, frozen: null, nextTry: 0}
    : {uuid: id || uuid(), kind, task_id: taskId, data, base_revision: 0, revision: 0, dirty: 1, editSeq: 1,
       edit, edits: [edit], device_time: nowIso()};
  try {
    await S.saveRecord(record, photos);
  } catch (e) {
    await storageFailed(e, photos.length > 0);
    return null;
  }
  if (storageFull && photos.length) storageFull = false;  // a photo fitted again: space was freed
  scheduleSync();
  storageInfo(storageFull);
  return record;
}

async function storageFailed(error, hadPhoto) {
  const full = error && (error.name === "QuotaExceededError" || /quota|space|blob/i.test(String(error.message || error)));
  showMessage(full ? `${T.fullStorage} ${hadPhoto ? T.fullStoragePhoto : ""} ${T.fullStorageNext}`
    : `${T.saveFailed}${error && (error.message || error.name) || error}`);
  if (full) storageFull = true;  // the browser refused a write: warn whatever its estimate says
  await storageInfo(true);
}

async function recordsOf(taskId) { return S.all("records", "task_id", taskId); }

async function me() { return (await S.get("kv", "user")) || {}; }

// A button that is busy until its action ends: a second tap meanwhile does nothing.
async function once(button, action) {
  if (!button || button.dataset.busy) return;
  button.dataset.busy = "1"; button.disabled = true;
  try { return await action(); } finally { delete button.dataset.busy; button.disabled = false; }
}

// --- sync -------------------------------------------------------------------------------------

const MAX_PHOTO_BYTES = 40 * 1024 * 1024;  // a camera file larger than this is refused before decoding

let syncTimer = null;
function scheduleSync(delay = 1500) {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(() => { if (navigator.onLine) doSync(); }, delay);
  if (registration && "SyncManager" in window) registration.sync.register("ssj-sync").catch(() => {});
}

let syncing = false, syncAgain = null, lastProblem = null;

// One run at a time from this page; a request meanwhile (a timer, `online`) becomes one more run after
// it, never a second run racing it. The button is disabled while a run goes.
async function doSync(force = false) {
  if (syncing) { syncAgain = {force: force || !!(syncAgain && syncAgain.force)}; return; }
  if (!(await S.get("kv", "token"))) return;  // signed out: a timer left from before sends nothing, says nothing
  syncing = true;
  const bar = $("#progress"), button = $("#sync-now");
  button.disabled = true; button.textContent = T.syncing;
  let rerun = null;
  try {
    const done = await self.ssjSync.syncOnce(showProgress, force);
    lastProblem = null;
    if (!(await showFailures()) && done.errors === 0) showMessage("");
    if (done.errors) scheduleSync(60000);  // the failed items' backoff decides when each goes again
    if (done.released) scheduleSync(500);  // returned by the team lead: what it froze goes now
    if (done.setAside) showMessage(`${done.setAside} ${T.setAside}`);
  } catch (e) {
    const X = self.ssjSync;
    if (e instanceof X.AuthNeeded) { await needLogin(); return; }
    if (e && e.name === "QuotaExceededError") { await storageFailed(e, false); return; }  // storing the tasks failed
    lastProblem = e instanceof X.NoNetwork || e instanceof X.ServerDown || e instanceof X.NotOurServer ? "network" : "server";
    showMessage(e instanceof X.NotOurServer ? T.notServer : e instanceof X.NoNetwork ? T.noNetwork
      : e instanceof X.ServerDown ? fill(T.serverDown, {status: e.message}) : e instanceof X.ServerFailed ? T.serverError
      : `${T.error}: ${e.message || e}`);
    scheduleSync(e instanceof X.NoNetwork ? 15000 : 60000);
  } finally {
    syncing = false;
    tasksFetched = true;
    bar.hidden = true; button.disabled = false; button.textContent = T.sync;
    rerun = syncAgain; syncAgain = null;
    await renderStatus();
    if (!location.hash.startsWith("#/login")) await refresh();
  }
  if (rerun) doSync(rerun.force);
}

function showProgress(p) {
  const bar = $("#progress"), status = $("#sync-status");
  bar.hidden = false; bar.max = Math.max(1, p.itemsTotal); bar.value = p.items;
  status.dataset.state = "uploading";
  status.textContent = `${T.st_uploading} ${p.items}/${p.itemsTotal} ${T.items}` +
    (p.bytesTotal ? ` · ${(p.bytes / 1024).toFixed(0)}/${(p.bytesTotal / 1024).toFixed(0)} KB` : "");
}

// What still fails, whichever ran the sync (this page, or the service worker's Background Sync).
async function showFailures() {
  const records = (await S.all("records", "dirty", 1)).filter(r => r.error);
  const photos = (await S.all("photos", "uploaded", 0)).filter(p => p.error);
  if (!records.length && !photos.length) return false;
  const frozen = records.filter(r => r.frozen);
  if (frozen.length === records.length && !photos.length) { showMessage(`${frozen.length} ${T.frozenHeld}`); return true; }
  showMessage(records.some(r => r.error.server) ? T.serverError : `${records.length + photos.length} ${T.someFailed}`);
  return true;
}

// In order: saved on the phone → waiting for signal → uploading n of m → all on the server.
async function renderStatus() {
  if (syncing) return;  // the progress line is showing
  const last = await S.get("kv", "lastSync");
  const pending = (await S.all("records", "dirty", 1)).length + (await S.all("photos", "uploaded", 0)).length;
  const status = $("#sync-status");
  const state = !pending ? "synced" : !navigator.onLine || lastProblem === "network" ? "waiting" : "saved";
  const when = last ? `${T.lastSync} <span class="nowrap">${whenText(last.at)}</span>` : T.never;
  status.innerHTML = state === "synced" ? `${navigator.onLine ? "" : T.offline + " · "}✓ ${T.st_synced} · ${when}`
    : `${T.st_saved} · ${state === "waiting" ? T.st_waiting + " · " : ""}${T.pending} ${pending} · ${when}`;
  status.dataset.pending = pending;
  status.dataset.state = state;
}

// A message for the inspector; "bad" ones (something was not saved or not sent) stand out.
function showMessage(text, bad = true) {
  const box = $("#message"); box.textContent = text; box.hidden = !text;
  box.classList.toggle("bad", !!text && bad);
}

// --- views ------------------------------------------------------------------------------------

function route(hash) { if (location.hash !== hash) location.hash = hash; else render(); }

function taskIdOfHash() { const m = (location.hash || "").match(/^#\/task\/(\d+)/); return m ? Number(m[1]) : null; }

async function render() {
  await flushTyping();  // a note still being typed is saved before the page it is on is drawn anew
  const token = await S.get("kv", "token");
  const view = $("#view");
  const hash = location.hash || "#/tasks";
  if (!token && taskIdOfHash()) sessionStorage.setItem("ssj-return", hash);  // a link to a task: there after signing in
  showInstall(!!token && !hash.startsWith("#/login") && !!taskIdOfHash());
  if (!token || hash.startsWith("#/login")) return renderLogin(view);
  const id = taskIdOfHash();
  if (id) return renderTask(view, id);
  return renderTasks(view);
}

// After a sync or a save: the task page is patched (inputs untouched), other views are drawn again.
async function refresh() {
  const view = $("#view");
  const id = taskIdOfHash();
  if (id && view.dataset.task === String(id)) return patchTask(view, id);
  if (!location.hash.startsWith("#/login")) return render();
}

function renderLogin(view) {
  ++renderGen;
  $("#relogin").hidden = true;
  delete view.dataset.task;
  view.innerHTML = `<form id="login" class="card"><h1>${T.login}</h1>
    <label for="u">${T.username}</label><input id="u" autocomplete="username" required>
    <label for="p">${T.password}</label><input id="p" type="password" autocomplete="current-password" required>
    <button type="submit">${T.login}</button></form>`;
  $("#login").onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      // The server's device key for this account marks the phone as one it signed in from before: a
      // stranger's failed guesses then never slow its owner down here (issue #11 point 8). One key per
      // phone: it names every account signed in here.
      const deviceSlot = "ssj-device";
      const r = await fetch("/api/v1/token", {method: "POST", headers: {"Content-Type": "application/json"}, credentials: "omit",
        body: JSON.stringify({username: $("#u").value, password: $("#p").value, device: navigator.userAgent.slice(0, 100),
                              device_key: localStorage.getItem(deviceSlot) || undefined})});
      const body = (r.headers.get("Content-Type") || "").includes("json") ? await r.json() : {};
      if (!r.ok || !body.token) return showMessage(body.message || T.notServer);
      if (body.device_key) localStorage.setItem(deviceSlot, body.device_key);
      const before = await S.get("kv", "user");
      if (before && before.id !== body.user.id) {
        // Another person on this phone: the last one's unsent work must never go under the new name, and
        // the new one must not see the last one's tasks.
        const unsent = (await S.all("records", "dirty", 1)).length + (await S.all("photos", "uploaded", 0)).length;
        if (unsent) return showMessage(fill(T.otherUser, {name: before.name || ""}));
        await S.clearWork();
        photoUrls.clear();
        Object.keys(localStorage).filter(k => k.startsWith("ssj-draft:")).forEach(dropDraft);
      }
      await S.put("kv", body.token, "token");
      await S.put("kv", body.user, "user");
      showMessage("");
      const back = sessionStorage.getItem("ssj-return") || "#/tasks";
      sessionStorage.removeItem("ssj-return");
      $("#relogin").hidden = true;
      location.hash = back;
      await doSync();
    } catch (e) { showMessage(T.noNetwork); }
  };
}

// The task's state as the inspector should read it: on the phone only, on the server, reviewed.
// The words the web pages use for an approved task (webapp/tasks/phase.py): a re-inspection's approval is
// its end; a random check's result is then published.
function approvedWords(task) {
  if (task.kind === "reinspection") return T.reinspectionApproved;
  return task.review && task.review.published ? T.published : T.approved;
}

function submissionTag(task, outcome) {
  if (!outcome) return "";
  if (outcome.dirty) return `<span class="tag">${outcome.waiting === "records" ? T.waitingRecords : T.submittedPending}</span>`;
  if (outcome.conflict) return `<span class="tag warn">${T.outcomeDiffers}</span>`;
  const state = task.review && task.review.state;
  if (state === "approved") return `<span class="tag good">${approvedWords(task)}</span>`;
  if (state === "returned") return "";
  return `<span class="tag good">${T.submitted}</span>`;
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
    const outcome = recs.find(r => r.kind === "outcome");
    const done = !!outcome;
    html.push(`<li class="card task"><a href="#/task/${t.id}"><b>${esc(t.enterprise.name)}</b></a>
      <div class="muted">${esc(t.enterprise.region)} · ${esc(t.enterprise.address)}</div>
      <div>${T.due} ${esc(t.due_date)} · ${T.answered} ${answered}/${total} ${submissionTag(t, outcome)}
      ${!done && recs.length ? `<span class="tag">${T.inProgress}</span>` : ""}
      ${recs.some(r => r.held) ? `<span class="tag bad">${T.versionsDiffer}</span>` : ""}
      ${t.withdrawn ? `<span class="tag warn">${T.withdrawn}</span>` : ""}
      ${t.kind === "reinspection" ? `<span class="tag warn">${T.reinspection}</span>` : ""}
      ${!done && t.due_date < today ? `<span class="tag bad">${T.overdue}</span>` : !done && t.due_date === today ? `<span class="tag warn">${T.dueToday}</span>` : ""}
      ${t.review && t.review.state === "returned" && !(outcome && outcome.dirty) ? `<span class="tag bad">${T.returned}</span>` : ""}</div></li>`);
  }
  if (gen !== renderGen) return;
  delete view.dataset.task;
  view.innerHTML = `<h1>${T.tasks}</h1>` + (html.length ? `<ul class="tasks">${html.join("")}</ul>` : `<p class="card">${T.noTasks}</p>`);
}

// Photo thumbnails: one object URL per photo for the page's life, so a patch compares equal HTML.
const photoUrls = new Map();
async function photoUrlMap(recs) {
  const out = {};
  for (const rec of recs) for (const sha of [...(rec.data.photos || []), rec.data.image].filter(Boolean)) {
    const p = await S.get("photos", sha);
    if (!p) continue;
    if (!photoUrls.has(sha) && p.blob) photoUrls.set(sha, URL.createObjectURL(p.blob));
    out[sha] = photoUrls.get(sha) || "";
    if (p.error) out["error:" + sha] = p.error;
  }
  return out;
}

// The server's per-field reasons ({field: [messages]}) as one line.
function reasons(error) {
  return typeof error === "string" ? error : Object.values(error).flat().join("；");
}

function recordTag(rec) {
  if (!rec) return "";
  if (rec.frozen && rec.dirty) return `<span class="tag bad">${T.frozenTag}</span>`;
  if (rec.held) return `<span class="tag bad">${T.seeAbove}</span>`;
  if (rec.error) return `<span class="tag bad">${T.error}: ${esc(reasons(rec.error))}</span>`;
  if (rec.waiting === "photo" && rec.dirty) return `<span class="tag">${T.waitingPhoto}</span>`;
  if (rec.waiting === "records" && rec.dirty) return `<span class="tag">${T.waitingRecords}</span>`;
  if (rec.superseded) return `<span class="tag">${T.superseded}</span>`;
  if (rec.conflict) return `<span class="tag warn">${T.conflict}</span>`;
  return rec.dirty ? `<span class="tag">${T.pending}</span>` : `<span class="tag good">✓</span>`;
}

// Everything the page shows, computed once per render or patch.
// `keep` narrows the model to one card's records (a card patch after a tap need not look up every photo).
async function taskModel(taskId, keep = null) {
  const task = await S.get("tasks", taskId);
  if (!task) return null;
  const all = await recordsOf(taskId);
  const local = new Set(all.map(r => r.uuid));
  const recs = keep ? all.filter(keep) : all;
  const user = await me();
  const names = Object.fromEntries(task.members.map(m => [m.inspector_id, m.name]));
  // The group's records the server holds that are not this phone's: a colleague's (or this account's
  // from another phone), shown beside ours.
  const theirs = (task.records || []).filter(r => !local.has(r.uuid) && !r.superseded && (!keep || keep(r)));
  return {task, recs, all, user, names, theirs, urls: await photoUrlMap(recs), setAside: keep ? 0 : (await S.get("kv", `setAside:${taskId}`)) || 0,
          lock: lockState(task, all, await photoRefusedFor(taskId)),
          answers: Object.fromEntries(recs.filter(r => r.kind === "answer").map(r => [r.data.question, r])),
          checkin: recs.find(r => r.kind === "checkin"), outcome: recs.find(r => r.kind === "outcome"),
          closures: Object.fromEntries(recs.filter(r => r.kind === "closure").map(r => [r.data.hazard, r]))};
}

function who(m, r) { return esc(m.names[r.inspector_id] || T.colleague); }

function questionCard(m, checklist, q) {
  const rec = m.answers[q.id];
  const r = rec ? rec.data : {};
  const choices = ["yes", "no", "na"].map(v => `<button type="button" class="choice ${r.result === v ? "on " + v : ""}" data-v="${v}" aria-pressed="${r.result === v}">${T[v]}</button>`).join("");
  const group = m.theirs.filter(x => x.kind === "answer" && x.data.question === q.id);
  const team = group.map(x => `<span class="tag ${r.result && x.data.result && x.data.result !== r.result ? "warn" : ""}">${T.colleague} ${who(m, x)}: ${T[x.data.result] || "—"}</span>` +
    (x.data.note ? ` <span class="muted small-note">${esc(x.data.note)}</span>` : "")).join(" ");
  const differs = r.result && group.some(x => x.data.result && x.data.result !== r.result) && !(rec && rec.conflict);
  const hazards = [...m.recs, ...m.theirs].filter(x => x.kind === "hazard" && x.data.question === q.id);
  const here = hazards.length ? `<p class="small-note here"><b>${T.hazardsHere}</b> ` + hazards.map(h =>
    `<span class="tag ${h.data.grade === "major" ? "bad" : "warn"}">${T[h.data.grade] || ""}</span> ${esc(h.data.description)}`).join("；") + "</p>" : "";
  const thumbs = (r.photos || []).map(sha => `<img class="thumb" alt="" src="${m.urls[sha] || ""}">` +
    (m.urls["error:" + sha] ? `<span class="tag bad photo-error">${T.photoFailed}: ${esc(m.urls["error:" + sha])}</span>
      <button type="button" class="secondary drop-photo" data-sha="${sha}">${T.dropPhoto}</button>` : "")).join("");
  return `<article class="card question" id="q-${esc(q.id)}" data-checklist="${esc(checklist.code)}@${esc(checklist.version)}">
    <div class="qtext" data-slot id="qt-${esc(q.id)}"><b>${esc(q.id)}</b> ${esc(q.text)} ${recordTag(rec)}
      ${differs ? `<span class="tag warn">${T.groupDiffers}</span>` : ""} ${team}</div>
    <details><summary>${T.basis} · ${T.hint}</summary><p class="muted">${esc(q.basis)}</p><p>${esc(q.hint || "")}</p></details>
    <div class="choices" data-slot id="qc-${esc(q.id)}">${choices}</div>
    <input class="note" maxlength="2000" placeholder="${T.note}" value="${esc(r.note || "")}" aria-label="${T.note} ${esc(q.id)}">
    <div class="photos"><span class="thumbs" data-slot id="qp-${esc(q.id)}">${thumbs}</span><label class="button secondary">${T.photo}<input type="file" accept="image/*" capture="environment" class="photo-input" hidden></label></div>
    <div data-slot id="qh-${esc(q.id)}">${here}${r.result === "no" ? `${hazards.length ? "" : `<p class="muted small-note need-hazard">${T.hazardNeeded}</p>`}
      <button type="button" class="secondary add-hazard">${T.hazard}</button>` : ""}</div>
  </article>`;
}

// Re-inspection (复查): per hazard, rectified or not, with a note and photos; the closure is one record.
function closureCard(m, h) {
  const rec = m.closures[h.uuid];
  const r = rec ? rec.data : {};
  const pick = (v, label) => `<button type="button" class="choice ${r.rectified === v ? "on " + (v ? "yes" : "no") : ""}" data-v="${v}" aria-pressed="${r.rectified === v}">${label}</button>`;
  const group = m.theirs.filter(x => x.kind === "closure" && x.data.hazard === h.uuid)
    .map(x => `<span class="tag">${T.colleague} ${who(m, x)}: ${x.data.rectified ? T.rectified : T.notRectified}</span>`).join(" ");
  return `<article class="card closure" id="h-${esc(h.uuid)}">
    <div data-slot id="ht-${esc(h.uuid)}"><span class="tag ${h.grade === "major" ? "bad" : "warn"}">${T[h.grade] || ""}</span> ${esc(h.question || "")} ${esc(h.description)}
      ${h.deadline ? `· ${esc(h.deadline)}` : ""} ${recordTag(rec)} ${group}</div>
    <div class="choices" data-slot id="hc-${esc(h.uuid)}">${pick(true, T.rectified)}${pick(false, T.notRectified)}</div>
    <input class="note" maxlength="2000" placeholder="${T.closureNote}" value="${esc(r.note || "")}">
    <div class="photos" data-slot id="hp-${esc(h.uuid)}">${(r.photos || []).map(sha => `<img class="thumb" alt="" src="${m.urls[sha] || ""}">`).join("")}
      <label class="button secondary ${rec ? "" : "disabled"}">${T.photo}<input type="file" accept="image/*" capture="environment" class="photo-input" hidden ${rec ? "" : "disabled"}></label></div>
  </article>`;
}

function summary(kind, d) {
  if (!d) return "";
  if (kind === "answer") return `${d.question} ${T[d.result] || "—"} ${d.note || ""} ${(d.photos || []).length ? "📷" + d.photos.length : ""}`;
  if (kind === "outcome") return `${T[d.outcome] || ""} ${d.reason ? T[d.reason] || "" : ""}`;
  if (kind === "hazard") return `${T[d.grade] || ""} ${d.description || ""} ${d.deadline || ""}`;
  if (kind === "signature") return d.refused ? T.refused : T.signed;
  if (kind === "closure") return `${d.rectified ? T.rectified : T.notRectified} ${d.note || ""}`;
  if (kind === "checkin") return d.lat != null ? `${Number(d.lat).toFixed(5)}, ${Number(d.lng).toFixed(5)}` : T.checkedIn;
  return "";
}

function revisionConflicts(m) {
  const held = m.recs.filter(r => r.held && r.server);
  if (!held.length) return "";
  return `<div class="card conflicts"><p class="warn"><b>${T.revisionConflict}</b></p>` + held.map(r => `<div class="revision" data-uuid="${esc(r.uuid)}">
      <p>${T.mine}: <b>${esc(summary(r.kind, r.data))}</b><br>${T.server}: <b>${esc(summary(r.kind, r.server.data))}</b></p>
      <div class="actions"><button type="button" class="keep-mine">${T.keepMine}</button><button type="button" class="secondary take-server">${T.takeServer}</button></div></div>`).join("") + "</div>";
}

// A date (YYYY-MM-DD) that never breaks mid-number; a moment as a person reads it, in Shanghai time.
const dateText = iso => iso ? `<span class="date">${esc(iso)}</span>` : "";
const ZONE = {timeZone: "Asia/Shanghai", hour12: false};
function whenText(at) {
  const d = new Date(at), today = new Date().toLocaleDateString("sv-SE", ZONE) === d.toLocaleDateString("sv-SE", ZONE);
  const time = d.toLocaleTimeString(LANG === "zh" ? "zh-CN" : "en-GB", {...ZONE, hour: "2-digit", minute: "2-digit"});
  return today ? time : `${d.toLocaleDateString(LANG === "zh" ? "zh-CN" : "en-GB", {...ZONE, month: "numeric", day: "numeric"})} ${time}`;
}

// A question as the inspector knows it: its number and the start of its text.
function questionOf(task, id) {
  for (const c of task.checklists || []) for (const q of c.questions) if (q.id === id) return q;
  return null;
}
function questionName(task, id) {
  const q = id && questionOf(task, id);
  if (!q) return "";
  return `${q.id} ${q.text.length > 24 ? q.text.slice(0, 24) + "…" : q.text}`;
}

function hazardItem(m, h, extra) {
  return `<li class="card"><span class="tag ${h.data.grade === "major" ? "bad" : "warn"}">${T[h.data.grade] || ""}</span>
    ${h.data.question ? `<span class="muted">${esc(questionName(m.task, h.data.question) || h.data.question)}</span> ` : ""}${esc(h.data.description)}
    ${h.data.deadline ? `· ${dateText(h.data.deadline)}` : ""} ${extra}</li>`;
}

function taskPage(m) {
  const {task, recs, user, checkin, outcome} = m;
  const questions = task.checklists.map(c => `<h2>${esc(c.title)} <span class="muted version">${T.version} ${esc(c.version)}</span></h2>` +
    c.questions.map(q => questionCard(m, c, q)).join("")).join("");
  const mineHazards = recs.filter(r => r.kind === "hazard").map(h => hazardItem(m, h, recordTag(h)));
  const groupHazards = m.theirs.filter(r => r.kind === "hazard").map(h => hazardItem(m, h, `<span class="tag">${T.colleague} ${who(m, h)}</span>`));
  const sigs = recs.filter(r => r.kind === "signature");
  const sigRow = (role, label, inspectorId) => {
    const s = sigs.find(x => x.data.role === role && (role === "enterprise" || x.data.inspector_id === inspectorId));
    const state = s ? (s.data.refused ? `<span class="tag warn">${T.refused}</span>` : `<img class="sig" alt="" src="${m.urls[s.data.image] || ""}"> <span class="tag good">${T.signed}</span>`) + " " + recordTag(s)
      : `<span class="tag">${T.unsigned}</span>`;
    const group = role === "enterprise" ? m.theirs.filter(x => x.kind === "signature" && x.data.role === "enterprise")
      .map(x => `<span class="tag">${T.colleague} ${who(m, x)}: ${x.data.refused ? T.refused : T.signed}</span>`).join(" ") : "";
    return `<div class="card signature" data-role="${role}" data-inspector="${inspectorId || ""}"><b>${esc(label)}</b>
      <span data-slot id="sig-${role}">${state} ${group}</span>
      <canvas width="320" height="120" class="pad"></canvas>
      <div class="actions"><button type="button" class="save-sig">${T.saveSignature}</button><button type="button" class="secondary clear-sig">${T.clear}</button>
      ${role === "enterprise" ? `<button type="button" class="secondary refuse-sig">${T.refuse}</button>` : ""}</div></div>`;
  };
  const mine = task.members.find(x => x.inspector_id === user.inspector_id);
  // Returned by the team lead, and not yet submitted again from this phone.
  const returned = task.review && task.review.state === "returned" && !(outcome && outcome.dirty);
  const groupCheckins = m.theirs.filter(r => r.kind === "checkin").map(r => `<span class="tag">${T.colleague} ${who(m, r)} ${T.checkedIn}</span>`).join(" ");
  const groupOutcomes = m.theirs.filter(r => r.kind === "outcome");
  const outcomeDiffers = outcome && (outcome.conflict || groupOutcomes.some(x => x.data.outcome !== outcome.data.outcome ||
    (x.data.outcome === "non_cooperation" && x.data.reason !== outcome.data.reason)));
  const lock = m.lock;
  // Submitted: a line saying so where the button was, never a live button (issue #12 point 6).
  const submitRow = lock ? `<p id="submit" class="submitted">✓ ${lock === "approved" ? approvedWords(task) : T.awaitingReview}</p> ${lock === "local" ? submissionTag(task, outcome) : ""}`
    : `<button type="button" id="submit">${returned ? T.resubmit : T.submit}</button> ${submissionTag(task, outcome)}
       <p class="muted small-note">${T.submitNote}</p>`;
  return `<p><a href="#/tasks" class="back">${T.back}</a></p>
    <h1>${esc(task.enterprise.name)}</h1>
    <div data-slot id="banners">${task.withdrawn ? `<p class="flash warn">${T.withdrawn}</p>` : ""}
    ${lock ? `<p class="flash done" id="frozen">${T["frozen_" + lock]}</p>` : ""}
    ${m.setAside ? `<p class="flash warn" id="set-aside">${m.setAside} ${T.setAside}</p>` : ""}
    ${returned ? `<p class="flash warn" id="returned">${T.returned}${LANG === "zh" ? "：" : ": "}${esc(task.review.comment)}</p>` : ""}
    ${revisionConflicts(m)}</div>
    <fieldset class="task-edit"${lock ? " disabled" : ""}>
    <dl class="facts card"><dt>${T.code}</dt><dd><span class="nowrap">${esc(task.uscc)}</span></dd>
      ${task.enterprise.address ? `<dt>${T.address}</dt><dd>${esc(task.enterprise.region || "")} ${esc(task.enterprise.address)}</dd>` : ""}
      <dt>${T.due}</dt><dd>${dateText(task.due_date)}</dd>
      <dt>${T.group}</dt><dd>${task.members.map(x => `<span class="member">${esc(x.name)}${x.cert_no ? ` <span class="muted nowrap">${T.certNo} ${esc(x.cert_no)}</span>` : ""}</span>`).join("")}</dd></dl>
    <div class="actions" data-slot id="checkin-row"><button type="button" id="checkin" class="${checkin ? "secondary" : ""}">${checkin ? `${T.checkedIn} ${whenText(checkin.device_time)}` : T.checkin}</button> ${groupCheckins}</div>
    ${questions}
    ${task.kind === "reinspection" ? `<h2>${T.reinspection}</h2><p class="muted">${T.reinspectHint}</p>` +
      (task.hazards || []).map(h => closureCard(m, h)).join("") : ""}
    ${(task.previous || []).length ? `<details class="card previous"><summary>${T.previous} (${task.previous.length})</summary><ul>` +
      task.previous.map(p => `<li>${dateText(p.found_on)} <span class="tag ${p.grade === "major" ? "bad" : "warn"}">${T[p.grade] || ""}</span>
        ${esc(p.description)} <span class="tag ${p.status === "closed" ? "good" : ""}">${T["hz_" + p.status] || ""}</span></li>`).join("") + "</ul></details>" : ""}
    <h2>${T.hazards}</h2><ul class="hazards" data-slot id="hazard-list">${[...mineHazards, ...groupHazards].join("")}</ul>
    <p class="other-hazard"><button type="button" class="secondary" id="add-other-hazard">${T.hazardOther}</button></p>
    <form id="hazard-form" class="card hazard-form" novalidate hidden><input type="hidden" id="hz-q">
      <h3 id="hz-title" tabindex="-1"></h3>
      <label for="hz-grade">${T.grade}</label><select id="hz-grade" required aria-describedby="hz-suggest"><option value="">${T.pickGrade}</option>
        <option value="general">${T.general}</option><option value="major">${T.major}</option></select>
      <p id="hz-suggest" class="muted small-note"></p>
      <label for="hz-desc">${T.description}</label><textarea id="hz-desc" required minlength="2" maxlength="2000"></textarea>
      <label for="hz-deadline">${T.deadline}</label><input id="hz-deadline" type="date">
      <p id="hz-error" class="warn" role="alert" hidden></p>
      <div class="actions"><button type="submit" id="hz-save">${T.saveHazard}</button><button type="button" class="secondary" id="hz-cancel">${T.cancel}</button></div></form>
    <h2>${T.outcome}</h2>
    <div class="card"><label for="outcome">${T.outcome}</label><select id="outcome">
      ${["completed", "non_cooperation", "closed", "not_found"].map(o => `<option value="${o}" ${outcome && outcome.data.outcome === o ? "selected" : ""}>${T[o]}</option>`).join("")}</select>
      <label for="reason">${T.reason}</label><select id="reason"><option value="">—</option>
      ${["refused_entry", "refused_materials", "false_materials", "obstruction"].map(o => `<option value="${o}" ${outcome && outcome.data.reason === o ? "selected" : ""}>${T[o]}</option>`).join("")}</select>
      <div data-slot id="outcome-group">${groupOutcomes.map(x => `<span class="tag">${T.colleague} ${who(m, x)}: ${T[x.data.outcome] || ""} ${x.data.reason ? T[x.data.reason] || "" : ""}</span>`).join(" ")}
        ${outcomeDiffers ? `<p class="flash warn" id="outcome-differs">${T.outcomeDiffers}</p>` : ""}</div></div>
    <h2>${T.signatures}</h2>
    ${mine ? sigRow("inspector", `${T.signInspector}（${mine.name}）`, mine.inspector_id) : ""}
    ${sigRow("enterprise", T.signEnterprise, null)}
    <div class="actions submit-row" data-slot id="submit-row">${submitRow}</div>
    </fieldset>
    <dialog id="submit-dialog" aria-labelledby="sd-title"><h2 id="sd-title"></h2><div id="sd-body"></div>
      <div class="actions"><button type="button" id="submit-confirm"></button><button type="button" class="secondary" id="submit-cancel">${T.keepEditing}</button></div></dialog>`;
}

// What is not done yet, as the review page will flag it (issue #12 points 6 and 8): unanswered questions
// (the group's answers count), photos a question requires, hazards a re-inspection must check, check-in,
// the inspectors' and the enterprise's signatures. An early outcome needs no answers.
function missingOf(m, outcome) {
  const {task} = m, group = [...m.recs, ...m.theirs];
  const questions = task.checklists.flatMap(c => c.questions);
  const answered = new Set(group.filter(r => r.kind === "answer" && r.data.result).map(r => r.data.question));
  const photographed = new Set(group.filter(r => r.kind === "answer" && (r.data.photos || []).length).map(r => r.data.question));
  const applies = new Set(group.filter(r => r.kind === "answer" && ["yes", "no"].includes(r.data.result)).map(r => r.data.question));
  const full = outcome === "completed";
  const signed = new Set(group.filter(r => r.kind === "signature" && r.data.role === "inspector").map(r => r.data.inspector_id || r.inspector_id));
  const unsigned = task.members.filter(x => !signed.has(x.inspector_id)).map(x => x.name);
  const out = {
    total: questions.length,
    unanswered: full ? questions.filter(q => !answered.has(q.id)) : [],
    noPhoto: full ? questions.filter(q => q.photo_required && applies.has(q.id) && !photographed.has(q.id)) : [],
    unchecked: full && task.kind === "reinspection" ? (task.hazards || []).filter(h =>
      !group.some(r => r.kind === "closure" && r.data.hazard === h.uuid && typeof r.data.rectified === "boolean")) : [],
    other: [],
  };
  if (!group.some(r => r.kind === "checkin")) out.other.push(T.missingCheckin);
  if (unsigned.length) out.other.push(`${T.missingSigInspector}：${unsigned.join("、")}`);
  if (task.kind !== "reinspection" && ["completed", "non_cooperation"].includes(outcome) && !group.some(r => r.kind === "signature" && r.data.role === "enterprise")) {
    out.other.push(T.missingSigEnterprise);
  }
  out.count = out.unanswered.length + out.noPhoto.length + out.unchecked.length + out.other.length;
  return out;
}

// Ask before submitting, in the page (a <dialog>), saying what is not done; each unanswered question is a
// link to it. Submitting locks the task until the team lead returns it.
// A hazard typed into the open form but not saved would not be part of the submission, and the form
// would sit greyed out under the read-only banner looking saved: submitting waits for it.
function unsavedHazard() {
  const form = $("#hazard-form");
  if (!form || form.hidden) return false;
  if (!($("#hz-desc").value.trim() || $("#hz-grade").value || $("#hz-deadline").value)) return false;
  closeSubmitDialog();
  form.scrollIntoView({block: "start"});
  $("#hz-desc").focus({preventScroll: true});
  formError(T.hazardUnsaved);
  return true;
}

async function askSubmit(task) {
  const outcome = $("#outcome").value, reason = $("#reason").value;
  if (outcome === "non_cooperation" && !reason) return showMessage(T.needReason);
  if (unsavedHazard()) return;
  const m = await taskModel(task.id);
  if (!m) return;
  const miss = missingOf(m, outcome);
  const returned = task.review && task.review.state === "returned";
  const jump = q => `<li><button type="button" class="jump" data-q="${esc(q.id)}"><span><b>${esc(q.id)}</b> ${esc(q.text)}</span></button></li>`;
  $("#sd-title").textContent = miss.count ? fill(T.incompleteTitle, {n: miss.count}) : T.confirmTitle;
  $("#sd-body").innerHTML = (miss.count ? "" : `<p>${fill(T.allDone, {n: miss.total})}</p>`) +
    (miss.unanswered.length ? `<p><b>${fill(T.unanswered, {n: miss.unanswered.length})}</b></p><ul class="jumps" id="sd-unanswered">${miss.unanswered.map(jump).join("")}</ul>` : "") +
    (miss.noPhoto.length ? `<p><b>${T.noPhoto}</b></p><ul class="jumps">${miss.noPhoto.map(jump).join("")}</ul>` : "") +
    (miss.unchecked.length ? `<p><b>${fill(T.unchecked, {n: miss.unchecked.length})}</b></p><ul>${miss.unchecked.map(h => `<li>${esc(h.description)}</li>`).join("")}</ul>` : "") +
    (miss.other.length ? `<ul class="missing">${miss.other.map(x => `<li>${esc(x)}</li>`).join("")}</ul>` : "") +
    `<p class="muted small-note">${T.submitNote}</p>`;
  const confirm = $("#submit-confirm");
  confirm.textContent = miss.count ? T.submitAnyway : returned ? T.confirmResubmit : T.confirmSubmit;
  confirm.classList.toggle("secondary", !!miss.count);  // incomplete: going back is the prominent choice
  $("#submit-cancel").classList.toggle("secondary", !miss.count);
  const dialog = $("#submit-dialog");
  dialog.dataset.missing = String(miss.count);
  if (!dialog.open) dialog.showModal();
  $("#submit-cancel").focus();  // the safe choice is the one under the thumb
}

function closeSubmitDialog() {
  const dialog = $("#submit-dialog");
  if (dialog && dialog.open) dialog.close();
}

// To an unanswered question from the list: the dialog closes and the question comes into view.
function jumpTo(id) {
  closeSubmitDialog();
  const card = document.getElementById(`q-${id}`);
  if (!card) return;
  card.scrollIntoView({block: "start"});
  card.classList.add("flagged");
  const first = card.querySelector("button.choice");
  if (first) first.focus({preventScroll: true});
}

let tasksFetched = false;  // a sync run has ended since the page loaded: the task list is as fresh as it gets

async function renderTask(view, taskId) {
  const gen = ++renderGen;
  const m = await taskModel(taskId);
  if (gen !== renderGen) return;
  if (!m) {
    // Opened from a link (the web task page's 在手机应用中检查): the task may not be on the phone yet.
    if (!tasksFetched && navigator.onLine) {
      delete view.dataset.task;
      view.innerHTML = `<p><a href="#/tasks" class="back">${T.back}</a></p><p class="card" id="loading-task">${T.loadingTask}</p>`;
      return;
    }
    showMessage(T.taskNotHere, false);
    return route("#/tasks");
  }
  view.innerHTML = taskPage(m);
  view.dataset.task = String(taskId);
  view.querySelectorAll(".signature").forEach(wireSignature);
  await restoreDrafts(taskId, m);
}

// Patch the slots whose content changed (of one card, or of the whole page); inputs, selects, canvases
// and focus are left alone.
async function patchTask(view, taskId, card = null) {
  const gen = renderGen;
  const keep = !card ? null : card.matches(".closure") ? r => r.kind === "closure" && `h-${r.data.hazard}` === card.id
    : r => (r.kind === "answer" || r.kind === "hazard") && `q-${r.data.question}` === card.id;
  const m = await taskModel(taskId, keep);
  if (!m || gen !== renderGen || view.dataset.task !== String(taskId)) return;
  const fresh = document.createElement("template");
  fresh.innerHTML = card ? cardHtml(m, card) : taskPage(m);
  (card || view).querySelectorAll("[data-slot]").forEach(slot => {
    const next = fresh.content.getElementById(slot.id);
    if (next && next.innerHTML !== slot.innerHTML) slot.innerHTML = next.innerHTML;
  });
  // Submitted (here or on the server), approved, or returned since: the page's controls follow (issue #11
  // point 1, issue #12 point 6).
  const edit = view.querySelector("fieldset.task-edit");
  if (edit && !card) {
    edit.disabled = !!m.lock;
    if (m.lock) closeSubmitDialog();  // a half-written hazard stays (disabled) with its draft until returned
  }
}

function cardHtml(m, card) {
  if (card.matches(".closure")) {
    const h = (m.task.hazards || []).find(x => `h-${x.uuid}` === card.id);
    return h ? closureCard(m, h) : "";
  }
  const [code, version] = card.dataset.checklist.split("@");
  const checklist = m.task.checklists.find(c => c.code === code && String(c.version) === version);
  const q = checklist && checklist.questions.find(x => `q-${x.id}` === card.id);
  return q ? questionCard(m, checklist, q) : "";
}

const taskOf = async () => S.get("tasks", taskIdOfHash());

// --- actions (delegated: one listener each for the whole view) -------------------------------------

async function onClick(ev) {
  const b = ev.target.closest("button");
  const view = $("#view");
  if (!b || !view.contains(b) || !view.dataset.task) return;
  const task = await taskOf();
  if (!task) return;
  const card = b.closest("article");
  if (card && card.matches(".question") && b.matches(".choice")) return once(b, () => chooseAnswer(task, card, b));
  if (card && card.matches(".question") && b.matches(".drop-photo")) return once(b, () => dropPhoto(task, card, b.dataset.sha));
  if (card && card.matches(".question") && b.matches(".add-hazard")) return openHazard(task, card.id.slice(2));
  if (card && card.matches(".closure") && b.matches(".choice")) {
    // A note typed before the verdict goes with it.
    return once(b, () => saveClosure(task, card, () => ({rectified: b.dataset.v === "true", note: card.querySelector("input.note").value})));
  }
  if (b.id === "checkin") return once(b, () => checkIn(task));
  if (b.id === "submit") return once(b, () => askSubmit(task));
  if (b.id === "submit-confirm") {
    return once(b, async () => { await submit(task); closeSubmitDialog(); });  // open until saved: a second tap finds it busy
  }
  if (b.id === "submit-cancel") return closeSubmitDialog();
  if (b.matches(".jump")) return jumpTo(b.dataset.q);
  if (b.id === "add-other-hazard") return openHazard(task, "");
  if (b.id === "hz-cancel") return closeHazard();
  if (b.matches(".keep-mine, .take-server")) return once(b, () => settleRevision(task, b.closest(".revision").dataset.uuid, b.matches(".keep-mine")));
  const sig = b.closest(".signature");
  if (sig && b.matches(".save-sig")) return once(b, () => saveSignature(task, sig));
  if (sig && b.matches(".refuse-sig")) return once(b, () => refuseSignature(task, sig));
  if (sig && b.matches(".clear-sig")) return clearPad(sig);
}

async function onChange(ev) {
  const el = ev.target, view = $("#view");
  if (!view.dataset.task) return;
  if (el.matches("#outcome, #reason")) return saveOutcomeDraft();
  if (el.matches("#hz-grade, #hz-deadline")) return saveHazardDraft();
  const task = await taskOf();
  const card = el.closest("article");
  if (!task || !card) return;
  if (el.matches("input.note")) {
    clearTimeout(noteTimers.get(el)); noteTimers.delete(el);
    putDraft(draftKey("note", card.id), el.value);
    return saveNote(task, card, el);
  }
  if (el.matches("input.photo-input")) {
    const files = [...el.files];
    el.value = "";
    return addPhotos(task, card, files);
  }
}

// --- what is being typed: saved while typing (a pause of 600 ms), on leaving the page, and before any
// redraw; the hazard form and the chosen outcome are kept as drafts until saved or cancelled ----------

const noteTimers = new Map();  // note input → its pending save
// Drafts live in localStorage: it is written synchronously, so a reload, a closed tab or a killed app
// keeps what was typed even when an IndexedDB write started on leaving could not finish.
const draftKey = (what, id) => `ssj-draft:${taskIdOfHash()}:${what}${id ? ":" + id : ""}`;
function putDraft(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full: the IndexedDB save still runs */ } }
function getDraft(key) { try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; } }
function dropDraft(key) { try { localStorage.removeItem(key); } catch (e) { /* nothing to drop */ } }

async function saveNote(task, card, el) {
  const note = el.value, key = `ssj-draft:${task.id}:note:${card.id}`;
  await (card.matches(".question") ? saveAnswer(task, card, () => ({note})) : saveClosure(task, card, () => ({note})));
  const saved = (await recordsOf(task.id)).some(r => (card.matches(".question") ? r.kind === "answer" && `q-${r.data.question}` === card.id
    : r.kind === "closure" && `h-${r.data.hazard}` === card.id) && (r.data.note || "") === note);
  if (saved && (getDraft(key) ?? note) === note) dropDraft(key);
}

function onInput(ev) {
  const el = ev.target;
  if (el.matches("#hz-desc")) return saveHazardDraft();
  if (!el.matches("#view input.note")) return;
  const card = el.closest("article");
  putDraft(draftKey("note", card.id), el.value);
  clearTimeout(noteTimers.get(el));
  noteTimers.set(el, setTimeout(async () => {
    noteTimers.delete(el);
    const task = await taskOf();
    if (task && el.isConnected) await saveNote(task, card, el);
  }, 600));
}

async function flushTyping() {
  const pending = [...noteTimers.keys()];
  noteTimers.clear();
  const task = pending.length ? await taskOf() : null;
  for (const el of pending) {
    const card = el.closest("article");
    if (task && card) await saveNote(task, card, el);
  }
  saveHazardDraft();
}

function saveHazardDraft() {
  const form = $("#hazard-form");
  if (!form || form.hidden || !taskIdOfHash() || !form.dataset.intent) return;
  putDraft(draftKey("hazard"), {intent: form.dataset.intent, q: $("#hz-q").value, grade: $("#hz-grade").value,
                                description: $("#hz-desc").value, deadline: $("#hz-deadline").value});
}

function saveOutcomeDraft() {
  if (taskIdOfHash()) putDraft(draftKey("outcome"), {outcome: $("#outcome").value, reason: $("#reason").value});
}

// Drafts left by a reload, a closed tab or a sign-in: back into the page; notes are saved as records.
async function restoreDrafts(taskId, m) {
  const hazard = getDraft(`ssj-draft:${taskId}:hazard`);
  if (hazard && !m.recs.some(r => r.uuid === hazard.intent) && !m.lock) {
    const form = $("#hazard-form");
    placeHazardForm(m.task, hazard.q);
    form.dataset.intent = hazard.intent; form.hidden = false;
    $("#hz-q").value = hazard.q; $("#hz-grade").value = hazard.grade;
    $("#hz-desc").value = hazard.description; $("#hz-deadline").value = hazard.deadline || "";
  }
  const outcome = getDraft(`ssj-draft:${taskId}:outcome`);
  if (outcome) { $("#outcome").value = outcome.outcome; $("#reason").value = outcome.reason || ""; }
  const prefix = `ssj-draft:${taskId}:note:`;
  for (const key of Object.keys(localStorage).filter(k => k.startsWith(prefix))) {
    const card = document.getElementById(key.slice(prefix.length)), note = getDraft(key);
    if (!card || note === null) { dropDraft(key); continue; }
    const input = card.querySelector("input.note");
    if (input.value === note) { dropDraft(key); continue; }
    input.value = note;
    // A closure's note waits in its field (and in the draft) until the verdict is chosen.
    if (card.matches(".question") || m.closures[card.id.slice(2)]) await saveNote(m.task, card, input);
  }
}

// An expired sign-in: the page stays as it is (nothing typed is lost); the inspector signs in when ready.
async function needLogin() {
  if (location.hash.startsWith("#/login")) return;  // already asking: keep what the sign-in form said
  showMessage(T.loginAgain);
  $("#relogin").hidden = false;
  if (!taskIdOfHash()) { sessionStorage.setItem("ssj-return", location.hash); route("#/login"); }
}

async function chooseAnswer(task, card, b) {
  // Show the choice at once; the IndexedDB write follows within milliseconds and the card's slots follow it.
  card.classList.remove("flagged");
  card.querySelectorAll("button.choice").forEach(x => { x.className = "choice"; x.setAttribute("aria-pressed", "false"); });
  b.className = `choice on ${b.dataset.v}`; b.setAttribute("aria-pressed", "true");
  return saveAnswer(task, card, () => ({result: b.dataset.v}));
}

async function saveAnswer(task, card, change, photos = []) {
  const q = card.id.slice(2), checklist = card.dataset.checklist;
  await serial(async () => {
    const prev = (await recordsOf(task.id)).find(r => r.kind === "answer" && r.data.question === q);
    const base = prev ? prev.data : {question: q, checklist, photos: []};
    return saveRecord("answer", task.id, {...base, question: q, checklist, ...change(base)}, prev, photos);
  });
  await patchTask($("#view"), task.id, card);
  renderStatus();
}

async function saveClosure(task, card, change, photos = []) {
  const hazard = card.id.slice(2);
  const saved = await serial(async () => {
    const prev = (await recordsOf(task.id)).find(r => r.kind === "closure" && r.data.hazard === hazard);
    const base = prev ? prev.data : {hazard, rectified: null, note: "", photos: []};
    const data = {...base, ...change(base)};
    if (data.rectified === null) return "verdict first";  // the verdict comes first (a note or photo waits for it)
    return saveRecord("closure", task.id, data, prev, photos);
  });
  if (saved === "verdict first") showMessage(LANG === "zh" ? "请先选择“已整改”或“未整改”。" : "Choose rectified or not first.");
  await patchTask($("#view"), task.id, card);
  renderStatus();
}

async function addPhotos(task, card, files) {
  const where = await self.ssjPhoto.position(1500);
  const name = (await me()).name || "";
  const photos = [];
  for (const file of files) {
    if (file.size > MAX_PHOTO_BYTES) {
      showMessage(fill(T.photoTooBig, {name: file.name, mb: (file.size / 1048576).toFixed(0), max: MAX_PHOTO_BYTES / 1048576}));
      continue;
    }
    const lines = [new Date().toLocaleString("zh-CN", {hour12: false}), task.enterprise.name, name,
                   where ? `${where.lat.toFixed(5)}, ${where.lng.toFixed(5)}` : ""].filter(Boolean);
    let p;
    try { p = await self.ssjPhoto.preparePhoto(file, lines); }
    catch (e) { showMessage(fill(T.photoUnreadable, {name: file.name})); continue; }  // nothing stored
    photos.push({sha: p.sha, blob: p.blob, size: p.size, uploaded: 0, task_id: task.id, taken_at: nowIso(), where});
  }
  if (!photos.length) return;
  const shas = photos.map(p => p.sha);
  const add = base => ({photos: [...new Set([...(base.photos || []), ...shas])]});
  if (card.matches(".question")) return saveAnswer(task, card, add, photos);
  return saveClosure(task, card, add, photos);
}

// A photo the server refused for good (not an image, too large) can be taken out of the answer.
async function dropPhoto(task, card, sha) {
  await saveAnswer(task, card, base => ({photos: (base.photos || []).filter(s => s !== sha)}));
  await serial(async () => {
    if (!(await S.all("records")).some(r => [...(r.data.photos || []), r.data.image].includes(sha))) await S.del("photos", sha);
  });
  renderStatus();
}

// The hazard form: one intent, one record. The uuid is chosen when the form opens, so a double tap
// (or a second tap after a slow save) edits the same record instead of registering the hazard twice.
// It opens right below its question, names it, and leaves the grade to the inspector: the checklist's
// own grade for the question is shown as a hint, never chosen for them (issue #12 point 7).
function placeHazardForm(task, q) {
  const form = $("#hazard-form"), card = q && document.getElementById(`q-${q}`);
  const anchor = card || $(".other-hazard");
  if (anchor && anchor.nextElementSibling !== form) anchor.after(form);
  const question = q && questionOf(task, q);
  $("#hz-title").textContent = question ? `${T.hazardFor}${question.id} ${question.text}` : T.hazardOtherTitle;
  const hint = $("#hz-suggest");
  hint.textContent = question && question.hazard_grade ? T["suggest_" + question.hazard_grade] || "" : "";
  hint.hidden = !hint.textContent;
}

function openHazard(task, q) {
  const form = $("#hazard-form");
  if (!form.hidden && $("#hz-q").value !== q && $("#hz-desc").value.trim()) {
    showMessage(T.finishHazard, false);  // a half-written hazard is never reset by another tap
    form.scrollIntoView({block: "nearest"}); $("#hz-desc").focus();
    return;
  }
  if (form.hidden || $("#hz-q").value !== q || !form.dataset.intent) {
    form.reset(); form.dataset.intent = uuid(); formError("");
    $("#hz-q").value = q; $("#hz-grade").value = "";
  }
  placeHazardForm(task, q);
  form.hidden = false;
  form.scrollIntoView({block: "nearest"});
  $("#hz-title").focus({preventScroll: true});  // read first; no keyboard pops up over the grade
  saveHazardDraft();
}

// What keeps the hazard from being saved, said in the form itself (the page's message line is far above).
function formError(text) {
  const box = $("#hz-error");
  box.textContent = text; box.hidden = !text;
  $("#hz-grade").setAttribute("aria-invalid", String(text === T.needGrade));
}

function closeHazard() {
  const form = $("#hazard-form"); form.hidden = true; form.reset(); delete form.dataset.intent; formError("");
  dropDraft(draftKey("hazard"));
}

async function onSubmit(ev) {
  if (ev.target.id !== "hazard-form") return;
  ev.preventDefault();
  const form = ev.target, task = await taskOf();
  if (!task) return;
  await once($("#hz-save"), async () => {
    const description = $("#hz-desc").value.trim(), grade = $("#hz-grade").value;
    const problem = !grade ? T.needGrade : description.length < 2 ? T.shortHazard : "";
    formError(problem);
    if (problem) { (grade ? $("#hz-desc") : $("#hz-grade")).focus(); return; }
    const intent = form.dataset.intent || (form.dataset.intent = uuid());
    const saved = await serial(async () => {
      const q = $("#hz-q").value;
      const recs = await recordsOf(task.id);
      const source = recs.find(r => r.kind === "answer" && r.data.question === q);
      return saveRecord("hazard", task.id, {question: q || null, grade, description,
        deadline: $("#hz-deadline").value || null, photos: (source && source.data.photos) || []},
        recs.find(r => r.uuid === intent) || null, [], intent);
    });
    if (saved) closeHazard();  // and its draft
    await patchTask($("#view"), task.id);
    renderStatus();
  });
}

async function checkIn(task) {
  if ((await recordsOf(task.id)).some(r => r.kind === "checkin")) return;
  const where = await self.ssjPhoto.position();
  await serial(async () => {
    if ((await recordsOf(task.id)).some(r => r.kind === "checkin")) return;  // one check-in per phone and task
    return saveRecord("checkin", task.id, where || {});
  });
  await patchTask($("#view"), task.id);
  renderStatus();
}

async function submit(task) {
  const outcome = $("#outcome").value, reason = outcome === "non_cooperation" ? $("#reason").value || null : null;
  if (outcome === "non_cooperation" && !reason) return showMessage(T.needReason);
  if (unsavedHazard()) return;
  await serial(async () => {
    const prev = (await recordsOf(task.id)).find(r => r.kind === "outcome");
    const returned = task.review && task.review.state === "returned" && prev && !prev.dirty;
    // The same outcome again is no new submission (a double tap), unless the team lead returned the task:
    // then the submission time makes it a new revision that submits the task again.
    if (prev && prev.data.outcome === outcome && (prev.data.reason || null) === reason && !returned) return prev;
    return saveRecord("outcome", task.id, {outcome, reason, submitted_at: nowIso()}, prev || null);
  });
  dropDraft(`ssj-draft:${task.id}:outcome`);
  await patchTask($("#view"), task.id);
  renderStatus();
}

async function settleRevision(task, uuid, keepMine) {
  await serial(async () => {
    await S.update("records", uuid, r => r && r.server && (keepMine
      // Ours becomes the next revision of the server's.
      ? {...r, base_revision: r.server.revision, revision: r.server.revision, held: 0, conflict: null, server: null, dirty: 1, nextTry: 0}
      // The server's stands; ours is dropped only now, by the inspector's choice.
      : {...r, data: r.server.data, base_revision: r.server.revision, revision: r.server.revision, held: 0,
         conflict: null, server: null, dirty: 0, edits: [...(r.edits || []), r.server.edit_id].filter(Boolean)}));
  });
  scheduleSync(100);
  const rec = await S.get("records", uuid);
  await patchTask($("#view"), task.id);
  if (rec && !keepMine) {  // the server's version now stands: show it in the inputs it concerns
    const card = rec.kind === "answer" ? document.getElementById(`q-${rec.data.question}`)
      : rec.kind === "closure" ? document.getElementById(`h-${rec.data.hazard}`) : null;
    if (card) card.querySelector("input.note").value = rec.data.note || "";
    if (rec.kind === "outcome") { $("#outcome").value = rec.data.outcome; $("#reason").value = rec.data.reason || ""; }
  }
  renderStatus();
}

// --- signatures --------------------------------------------------------------------------------

function wireSignature(box) {
  const canvas = box.querySelector("canvas"), ctx = canvas.getContext("2d");
  let drawing = false;
  ctx.lineWidth = 2.5; ctx.lineCap = "round";
  const at = ev => { const r = canvas.getBoundingClientRect(); return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height]; };
  canvas.onpointerdown = ev => { drawing = true; canvas.dataset.drawn = "1"; canvas.setPointerCapture(ev.pointerId); ctx.beginPath(); ctx.moveTo(...at(ev)); };
  canvas.onpointermove = ev => { if (drawing) { ctx.lineTo(...at(ev)); ctx.stroke(); } };
  canvas.onpointerup = () => { drawing = false; };
}

function clearPad(box) {
  const canvas = box.querySelector("canvas");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  delete canvas.dataset.drawn;
}

function signatureOf(recs, box) {
  const role = box.dataset.role, inspectorId = box.dataset.inspector ? Number(box.dataset.inspector) : null;
  return recs.find(x => x.kind === "signature" && x.data.role === role && (role === "enterprise" || x.data.inspector_id === inspectorId));
}

async function saveSignature(task, box) {
  const canvas = box.querySelector("canvas");
  if (!canvas.dataset.drawn) return;
  const blob = await new Promise(r => canvas.toBlob(r, "image/png"));
  const sha = await self.ssjPhoto.sha256Hex(blob);
  const role = box.dataset.role, inspectorId = box.dataset.inspector ? Number(box.dataset.inspector) : null;
  const saved = await serial(async () => saveRecord("signature", task.id, {role, inspector_id: inspectorId, name: null, refused: false, image: sha},
    signatureOf(await recordsOf(task.id), box) || null, [{sha, blob, size: blob.size, uploaded: 0, task_id: task.id}]));
  if (saved) clearPad(box);  // the saved signature shows above the pad
  await patchTask($("#view"), task.id);
  renderStatus();
}

async function refuseSignature(task, box) {
  await serial(async () => saveRecord("signature", task.id, {role: box.dataset.role, inspector_id: null, name: null, refused: true, image: null},
    signatureOf(await recordsOf(task.id), box) || null));
  await patchTask($("#view"), task.id);
  renderStatus();
}

// --- storage, updates, start ---------------------------------------------------------------------

const LOW_SPACE = 200 * 1048576;
let persisted = null, storageAt = 0, storageFull = false;

// The real free space (navigator.storage.estimate), refreshed after saves; a warning well before it runs out.
async function storageInfo(now = false) {
  const box = $("#storage");
  if (!navigator.storage) return;
  if (!now && Date.now() - storageAt < 2000) return;
  storageAt = Date.now();
  if (persisted === null) persisted = navigator.storage.persist ? await navigator.storage.persist().catch(() => false) : false;
  const est = navigator.storage.estimate ? await navigator.storage.estimate().catch(() => null) : null;
  const free = est ? Math.max(0, est.quota - est.usage) : null;
  box.textContent = `${persisted ? T.persisted : T.notPersisted}` +
    (storageFull ? "" : free !== null ? ` · ${T.free} ${(free / 1048576).toFixed(0)} MB` : "");
  box.dataset.persisted = persisted;
  box.dataset.free = free === null ? "" : String(free);
  const low = storageFull || (free !== null && free < LOW_SPACE);
  box.classList.toggle("warn", low);
  if (low) box.textContent += ` · ${T.lowSpace}`;
}

// Not installed yet (a browser tab, not the home-screen app): how to install it, until the inspector
// dismisses the note. Where the browser offers its own prompt, one button opens it. Without HTTPS the
// insecure-connection line says why it cannot be installed instead.
// Shown on the task list, not over a task being inspected.
let installPrompt = null;
let onTaskPage = false;
function showInstall(onTask = onTaskPage) {
  const box = $("#install");
  onTaskPage = onTask;
  const installed = matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  if (installed || !window.isSecureContext || localStorage.getItem("ssj-install-seen") || onTask) {
    box.hidden = true; return;
  }
  box.hidden = false;
  box.innerHTML = `<span>${T.installNote}</span> <span class="actions">${installPrompt ? `<button type="button" id="install-now">${T.installNow}</button>` : ""}
    <button type="button" class="secondary" id="install-seen">${T.gotIt}</button></span>`;
}
function installNote() {
  const box = $("#install"), show = showInstall;
  box.onclick = async ev => {
    const b = ev.target.closest("button");
    if (!b) return;
    if (b.id === "install-now" && installPrompt) { const p = installPrompt; installPrompt = null; p.prompt(); await p.userChoice.catch(() => null); }
    localStorage.setItem("ssj-install-seen", "1");
    show();
  };
  window.addEventListener("beforeinstallprompt", ev => { ev.preventDefault(); installPrompt = ev; show(); });
  window.addEventListener("appinstalled", () => { localStorage.setItem("ssj-install-seen", "1"); show(); });
  show();
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
  $("#lang").onclick = async () => { await flushTyping(); localStorage.setItem("ssj-lang", LANG === "en" ? "zh" : "en"); location.reload(); };
  $("#relogin").textContent = T.relogin;
  $("#relogin").onclick = async () => { await flushTyping(); sessionStorage.setItem("ssj-return", location.hash); route("#/login"); };
  if (!window.isSecureContext) { $("#insecure").hidden = false; $("#insecure").textContent = T.insecure; }
  installNote();
  const view = $("#view");
  view.addEventListener("click", onClick);
  view.addEventListener("change", onChange);
  view.addEventListener("submit", onSubmit);
  view.addEventListener("input", onInput);
  // Leaving the page (another app, the tab closed or reloaded): save what is being typed.
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flushTyping(); });
  window.addEventListener("pagehide", () => { flushTyping(); });
  if ("serviceWorker" in navigator && window.isSecureContext) {
    registration = await navigator.serviceWorker.register("/app/sw.js", {scope: "/app/"});
    const watch = w => w && w.addEventListener("statechange", () => { if (w.state === "installed" && navigator.serviceWorker.controller) offerUpdate(w); });
    if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
    if (registration.installing) watch(registration.installing);  // an update already under way at load
    registration.addEventListener("updatefound", () => watch(registration.installing));
    // The first install also changes the controller (clients.claim): that must not reload a page being used.
    navigator.serviceWorker.addEventListener("controllerchange", () => { if (updating) { updating = false; location.reload(); } });
    navigator.serviceWorker.addEventListener("message", ev => {
      if (!ev.data) return;
      if (ev.data.type === "PROGRESS" && !syncing) { showProgress(ev.data.progress); return; }
      if (ev.data.type === "SYNCED") { $("#progress").hidden = true; renderStatus(); showFailures(); refresh(); }
    });
  }
  if (tabs) tabs.onmessage = () => { renderStatus(); refresh(); };
  $("#sync-now").onclick = () => doSync(true);
  window.addEventListener("online", () => { lastProblem = null; renderStatus(); doSync(); });
  window.addEventListener("offline", () => renderStatus());
  window.addEventListener("hashchange", () => render());
  await render();
  await renderStatus();
  storageInfo(true);
  if (navigator.onLine && await S.get("kv", "token")) doSync();  // sync on open
}

start();
