// The sync engine, DOM-free: the page runs it on open, on `online` and by button, the service worker
// on Background Sync. A Web Lock keeps two runs from overlapping; the server's per-uuid idempotency
// makes any overlap harmless anyway. Nothing is ever deleted here: a record is only marked sent when
// a JSON reply names its uuid as accepted (a 200 HTML page from a captive portal acknowledges nothing).
"use strict";

const API = "/api/v1";
const CHUNK = 256 * 1024;
const BATCH = 100;

class AuthNeeded extends Error {}
class NotOurServer extends Error {}   // a page that is not our API's JSON (captive portal, login redirect)
class ServerDown extends Error {}     // a proxy or gateway's 5xx page: the server is not reachable now
class NoNetwork extends Error {}      // the request never got an answer (no signal, cut connection)
class ServerFailed extends Error {}   // a JSON 5xx: the server kept nothing of that request

async function api(path, options = {}) {
  const token = await self.ssjStore.get("kv", "token");
  if (!token) throw new AuthNeeded("no token");
  const headers = {...(options.headers || {}), Authorization: "Bearer " + token};
  let response, body;
  try {
    response = await fetch(API + path, {...options, headers, credentials: "omit", cache: "no-store"});
  } catch (e) { throw new NoNetwork(String(e)); }
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("application/json")) {
    throw response.status >= 500 ? new ServerDown(String(response.status)) : new NotOurServer(`HTTP ${response.status} ${type}`);
  }
  try { body = await response.json(); } catch (e) { throw new NoNetwork(String(e)); }  // cut mid-reply
  if (response.status >= 500) throw new ServerFailed(body.message || `HTTP ${response.status}`);
  if (response.status === 401) { await self.ssjStore.del("kv", "token"); throw new AuthNeeded(body.message); }
  return {status: response.status, body};
}

function backoff(tries) { return Math.min(30 * 60 * 1000, 5000 * 2 ** Math.min(tries, 9)); }

// A photo counts as uploaded only on the server's word (201/200, or `stored: true`).
async function uploadPhoto(photo, progress) {
  let {body} = await api(`/photos/${photo.sha}`);
  if (body.stored) return {ok: true};
  let offset = body.offset || 0;
  for (let guard = 0; guard < 4 + 4 * Math.ceil(photo.size / CHUNK); guard++) {
    let r;
    if (offset >= photo.size) {
      // Every byte is on the server, yet it was not stored (it failed after the last piece): finish it.
      r = await api(`/photos/${photo.sha}`, {method: "PUT", body: new Blob([]),
        headers: {"Content-Range": `bytes */${photo.size}`, "Content-Type": "application/octet-stream"}});
    } else {
      const piece = photo.blob.slice(offset, Math.min(offset + CHUNK, photo.size));
      const end = offset + piece.size - 1;
      r = await api(`/photos/${photo.sha}`, {method: "PUT", body: piece,
        headers: {"Content-Range": `bytes ${offset}-${end}/${photo.size}`, "Content-Type": "application/octet-stream"}});
      if (r.status === 201 || r.status === 202) progress.bytes += piece.size;
    }
    if (r.status === 201 || r.status === 200) return {ok: true};
    if (r.status === 202 || r.status === 409) { offset = r.body.offset || 0; continue; }  // go on where the server is
    return {ok: false, error: r.body.message || `HTTP ${r.status}`, final: r.status === 422};
  }
  return {ok: false, error: "upload did not complete"};  // tried again on the next run
}

// Records that must agree across the group's phones carry the server's flag; "revision" is kept for a
// real conflict on this phone's own record (the server holds an edit this phone never made).
async function runSync(report = () => {}, force = false) {
  const store = self.ssjStore;
  const progress = {items: 0, itemsTotal: 0, bytes: 0, bytesTotal: 0, errors: 0, phase: "photos"};
  const now = Date.now();
  // Items that failed wait for their backoff, unless the inspector pressed 立即同步 (force). A record in
  // real conflict waits for the inspector's choice.
  const due = x => force || !x.nextTry || x.nextTry <= now;
  const photos = (await store.all("photos", "uploaded", 0)).filter(due);
  // A change the server refused because the inspection was under review waits until it is returned.
  const records = (await store.all("records", "dirty", 1)).filter(r => due(r) && !r.held && !r.frozen);
  progress.itemsTotal = photos.length + records.length;
  progress.bytesTotal = photos.reduce((s, p) => s + p.size, 0);
  report(progress);
  for (const photo of photos) {
    let result;
    try { result = await uploadPhoto(photo, progress); }
    catch (e) {
      if (!(e instanceof ServerFailed)) throw e;  // no network, portal, server down: the whole run waits
      result = {ok: false, error: e.message};
    }
    await store.update("photos", photo.sha, p => p && (result.ok
      ? {...p, uploaded: 1, error: null, tries: 0, nextTry: 0}
      : {...p, error: result.error, final: !!result.final, tries: (p.tries || 0) + 1,
         nextTry: result.final ? now + 24 * 3600e3 : now + backoff(p.tries || 0)}));
    if (!result.ok) progress.errors += 1;
    progress.items += 1; report(progress);
  }
  progress.phase = "records";
  // A batch the server fails on (a JSON 5xx, nothing kept) is halved and sent again, so one record that
  // trips the server is isolated and waits with its error while every other record goes through.
  const sendPart = async part => {
    const sent = part.map(r => ({uuid: r.uuid, kind: r.kind, task_id: r.task_id, base_revision: r.base_revision,
                                 device_time: r.device_time, data: r.data, ...(r.edit ? {edit: r.edit} : {})}));
    const stamp = Object.fromEntries(part.map(r => [r.uuid, r.editSeq]));
    let status, body;
    try {
      ({status, body} = await api("/sync", {method: "POST", body: JSON.stringify({records: sent}),
                                            headers: {"Content-Type": "application/json"}}));
    } catch (e) {
      if (!(e instanceof ServerFailed)) throw e;
      progress.serverError = e.message;
      if (part.length > 1) {
        const half = Math.ceil(part.length / 2);
        await sendPart(part.slice(0, half)); await sendPart(part.slice(half));
        return;
      }
      await store.update("records", part[0].uuid, r => r && {...r, error: {server: [e.message]},
        tries: (r.tries || 0) + 1, nextTry: Date.now() + backoff(r.tries || 0)});
      progress.errors += 1; progress.items += 1; report(progress);
      return;
    }
    if (status !== 200 || !Array.isArray(body.accepted)) throw new NotOurServer(`sync HTTP ${status}`);
    const kinds = Object.fromEntries(part.map(r => [r.uuid, [r.kind, r.task_id]]));
    for (const a of body.accepted) {
      const [kind, taskId] = kinds[a.uuid] || [];
      if (kind === "outcome") {
        // The server submitted the task (or, outcomes differing, took it back): so does the phone, even if
        // the task list download after this fails.
        await store.update("tasks", taskId, t => t && t.review && ({...t, review: {...t.review,
          state: a.conflict ? (t.review.state === "submitted" ? "open" : t.review.state)
            : ["open", "returned"].includes(t.review.state) ? "submitted" : t.review.state}}));
      }
      await store.update("records", a.uuid, r => r && {...r, base_revision: a.revision, revision: a.revision,
        dirty: r.editSeq === stamp[a.uuid] ? 0 : 1,   // edited while it was on the way: send again
        conflict: a.conflict ? "group" : null, reassigned: !!a.reassigned, error: null, waiting: null,
        tries: 0, nextTry: 0, sentAt: Date.now()});
    }
    for (const c of body.conflicts || []) {
      // A stale base. If the server's revision is one of this phone's own edits (its reply was lost),
      // nobody else is involved: build on it and send again. Otherwise keep ours and the server's,
      // send nothing, and let the inspector choose (nothing is overwritten silently, nothing is marked sent).
      const r = await store.update("records", c.uuid, r => {
        if (!r) return r;
        // A revision without an edit id was made by an app before edit ids existed, and a uuid is only
        // ever written by the phone that made it: that is this phone's own work too.
        if (!c.server.edit_id || (r.edits || []).includes(c.server.edit_id)) {
          return {...r, base_revision: c.server.revision, revision: c.server.revision, dirty: 1, nextTry: 0};
        }
        return {...r, conflict: "revision", server: c.server, held: 1};
      });
      if (r && !r.held) again.push(r); else progress.errors += 1;
    }
    for (const j of body.rejected || []) {
      if (j.frozen) {
        // Submitted or approved (issue #11 point 1): the phone keeps the change and shows why; it goes
        // again once the team lead returns the inspection.
        await store.update("records", j.uuid, r => r && {...r, frozen: j.frozen, error: j.errors, waiting: null});
        progress.frozen = (progress.frozen || 0) + 1;
        continue;
      }
      // Waiting for its photo is no failure: it goes once the photo is up.
      const photoWait = j.retry && j.errors && j.errors.photos && Object.keys(j.errors).length === 1;
      await store.update("records", j.uuid, r => r && (photoWait ? {...r, waiting: "photo", error: null}
        : {...r, error: j.errors, tries: (r.tries || 0) + 1, nextTry: Date.now() + backoff(r.tries || 0)}));
      if (photoWait) progress.waiting = (progress.waiting || 0) + 1; else progress.errors += 1;
    }
    progress.items += part.length; report(progress);
  };
  let again = [];
  const sendAll = async list => { for (let start = 0; start < list.length; start += BATCH) await sendPart(list.slice(start, start + BATCH)); };
  // Rebased on our own earlier revision: send once more in this run (with the edit as it is now).
  const sendAgain = async () => {
    for (let round = 0; round < 3 && again.length; round++) {
      const next = [];
      for (const r of again) { const cur = await store.get("records", r.uuid); if (cur && cur.dirty && !cur.held) next.push(cur); }
      again = [];
      progress.itemsTotal += next.length; report(progress);
      await sendAll(next);
    }
  };
  const outcomes = records.filter(r => r.kind === "outcome");
  await sendAll(records.filter(r => r.kind !== "outcome"));
  await sendAgain();
  // An outcome submits the inspection: it goes only once every other record of its task is on the server,
  // so the team lead never reviews half an inspection.
  const ready = [];
  for (const r of outcomes) {
    const rest = (await store.all("records", "task_id", r.task_id)).filter(x => x.dirty && x.uuid !== r.uuid);
    if (rest.length) await store.update("records", r.uuid, x => x && {...x, waiting: "records"});
    else ready.push(r);
  }
  progress.itemsTotal -= outcomes.length - ready.length;
  await sendAll(ready);
  await sendAgain();
  progress.phase = "tasks";
  report(progress);
  const {body} = await api("/tasks");
  const local = await store.all("tasks");
  const incoming = new Set(body.tasks.map(t => t.id));
  for (const task of body.tasks) await store.put("tasks", {...task, withdrawn: false, fetchedAt: Date.now()});
  // Returned (or reopened): what the review froze on this phone goes at the next run.
  const open = new Set(body.tasks.filter(t => !t.review || ["open", "returned"].includes(t.review.state)).map(t => t.id));
  // A task this phone's inspector left (a former member's work is still taken, flagged) counts too.
  for (const [id, state] of Object.entries(body.withdrawn_review || {})) if (["open", "returned"].includes(state)) open.add(Number(id));
  for (const r of await store.all("records", "dirty", 1)) {
    if (!r.frozen || !open.has(r.task_id)) continue;
    await store.update("records", r.uuid, x => x && {...x, frozen: null, error: null, nextTry: 0, tries: 0});
    progress.released = (progress.released || 0) + 1;
  }
  // Approved: a change the freeze refused can never land. The server keeps it on the audit trail (the
  // team lead sees it on the review page), so the phone takes the server's version back, or drops a record
  // the server never had, and says so once: nothing stays pending for ever or blocks another sign-in.
  const approved = new Map(body.tasks.filter(t => t.review && t.review.state === "approved").map(t => [t.id, t]));
  for (const [id, state] of Object.entries(body.withdrawn_review || {})) if (state === "approved") approved.set(Number(id), null);
  for (const r of await store.all("records", "dirty", 1)) {
    if (!r.frozen || !approved.has(r.task_id)) continue;
    const theirs = ((approved.get(r.task_id) || {}).records || []).find(x => x.uuid === r.uuid);
    if (theirs) {
      await store.update("records", r.uuid, x => x && {...x, data: theirs.data, base_revision: theirs.revision,
        revision: theirs.revision, dirty: 0, frozen: null, error: null, waiting: null});
    } else {
      await store.del("records", r.uuid);
    }
    progress.setAside = (progress.setAside || 0) + 1;
    const key = `setAside:${r.task_id}`;  // the task page says so (kv: this runs in the service worker too)
    await store.put("kv", ((await store.get("kv", key)) || 0) + 1, key);
  }
  // A colleague's phone may have recorded something differently since: take the server's flag onto our
  // own sent records (never onto unsent ones, which the next sync settles), and its settlement too.
  const mine = new Map((await store.all("records")).map(r => [r.uuid, r]));
  for (const task of body.tasks) for (const theirs of task.records || []) {
    const ours = mine.get(theirs.uuid);
    if (!ours || ours.dirty || ours.conflict === "revision") continue;
    const flag = theirs.conflict ? "group" : null, superseded = !!theirs.superseded;
    if ((ours.conflict || null) === flag && !!ours.superseded === superseded) continue;
    await store.update("records", ours.uuid, r => r && !r.dirty && {...r, conflict: flag, superseded});
  }
  for (const task of local) {
    // Cancelled or reassigned on the server: keep it and its local work, mark it.
    if (!incoming.has(task.id) && (body.withdrawn || []).includes(task.id)) await store.put("tasks", {...task, withdrawn: true});
  }
  await store.put("kv", {at: Date.now(), errors: progress.errors}, "lastSync");
  progress.phase = "done"; report(progress);
  return progress;
}

async function syncOnce(report, force = false) {
  if (self.navigator && navigator.locks) return navigator.locks.request("ssj-sync", () => runSync(report, force));
  return runSync(report, force);
}

self.ssjSync = {syncOnce, AuthNeeded, NotOurServer, ServerDown, NoNetwork, ServerFailed};
