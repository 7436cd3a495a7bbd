// IndexedDB store of the offline app. DOM-free: the page and the service worker both load it.
// Schema versions only ever add: an app update never drops a store that holds an inspection.
"use strict";

const DB_NAME = "ssj-inspect";
const DB_VERSION = 1;

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = (event) => {
      const db = req.result;
      if (event.oldVersion < 1) {
        db.createObjectStore("kv");                                   // token, user, last sync …
        db.createObjectStore("tasks", {keyPath: "id"});               // tasks as downloaded
        const records = db.createObjectStore("records", {keyPath: "uuid"});
        records.createIndex("task_id", "task_id");
        records.createIndex("dirty", "dirty");                        // 1: still to send
        const photos = db.createObjectStore("photos", {keyPath: "sha"});
        photos.createIndex("uploaded", "uploaded");                   // 0: still to send
      }
      // Version 2 and later: add stores or indexes here, never delete data.
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let dbPromise = null;
function db() { return dbPromise || (dbPromise = openDb()); }

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

function request(req) {
  return new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
}

const store = {
  async get(name, key) { const d = await db(); return request(d.transaction(name).objectStore(name).get(key)); },
  async all(name, index, value) {
    const d = await db(); const s = d.transaction(name).objectStore(name);
    return request(index ? s.index(index).getAll(value) : s.getAll());
  },
  async put(name, value, key) {
    const d = await db(); const tx = d.transaction(name, "readwrite");
    tx.objectStore(name).put(value, key); return done(tx);
  },
  async del(name, key) {
    const d = await db(); const tx = d.transaction(name, "readwrite");
    tx.objectStore(name).delete(key); return done(tx);
  },
  // A record and the photos it refers to land together or not at all.
  async saveRecord(record, photos = []) {
    const d = await db(); const tx = d.transaction(["records", "photos"], "readwrite");
    for (const p of photos) tx.objectStore("photos").put(p);
    tx.objectStore("records").put(record);
    return done(tx);
  },
  // Another person signs in on this phone (with nothing left unsent): the last one's work goes.
  async clearWork() {
    const d = await db(); const tx = d.transaction(["tasks", "records", "photos", "kv"], "readwrite");
    for (const name of ["tasks", "records", "photos"]) tx.objectStore(name).clear();
    for (const key of ["lastSync", "token", "user"]) tx.objectStore("kv").delete(key);
    return done(tx);
  },
  // Apply a change to one record inside one transaction (read-modify-write without races).
  async update(name, key, change) {
    const d = await db(); const tx = d.transaction(name, "readwrite"); const s = tx.objectStore(name);
    const current = await request(s.get(key));
    const next = change(current);
    if (next) s.put(next);
    await done(tx);
    return next;
  },
};

self.ssjStore = store;
