// Service worker: caches the app shell only (never data, never the back office), serves it offline,
// and runs the sync engine on Background Sync. A new version waits until the page says the
// inspector is not mid-inspection (the page shows the prompt), then takes over.
"use strict";

// Both filled in when served (webapp/pwa): the version is a hash of the shell, so every release
// updates, and the file list is the server's own, so the two can never disagree.
const VERSION = "ssj-shell-dev";
const SHELL = ["ssj-shell-files"];

importScripts("/app/db.js", "/app/sync.js");

self.addEventListener("install", event => {
  event.waitUntil(caches.open(VERSION).then(cache => cache.addAll(SHELL)));
});

self.addEventListener("activate", event => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== VERSION) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener("message", event => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

self.addEventListener("fetch", event => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/app/")) return;
  // App shell: cache first (it is versioned with this worker); the task page is the same shell.
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    const hit = await cache.match(url.pathname === "/app" ? "/app/" : url.pathname);
    return hit || cache.match("/app/") || fetch(event.request);
  })());
});

self.addEventListener("sync", event => {
  if (event.tag !== "ssj-sync") return;
  event.waitUntil((async () => {
    const tell = async message => { for (const client of await self.clients.matchAll()) client.postMessage(message); };
    try {
      // The page shows "uploading n of m" whichever of the two runs the sync.
      await self.ssjSync.syncOnce(p => tell({type: "PROGRESS", progress: {...p}}));
    } finally {
      for (const client of await self.clients.matchAll()) client.postMessage({type: "SYNCED"});
    }
  })());
});
