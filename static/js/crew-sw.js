/* The crews' service worker (served as /crew/sw.js by web/crew.py, which writes
 * CREW_SHELL and CREW_VERSION above this line). See docs/CREWS.md.
 *
 * - The page shell (the /crew/ page, its CSS and scripts) is cached on install.
 * - Pages under /crew/: network first, the cached page when offline.
 * - Static files of the shell: cache first (their names change with their content).
 * - GET /api/v1/routes/: network first; every good answer is kept (per URL) with the
 *   time it was fetched, and an offline answer from the cache carries that time in
 *   `X-Crew-Fetched-At` so the page can mark it as a saved copy.
 * - Everything else (reports, photos, other API calls) goes to the network untouched:
 *   the page's outbox queues and retries those.
 */
/* global CREW_SHELL, CREW_VERSION */
"use strict";

const SHELL_CACHE = "crew-shell-" + CREW_VERSION;
const DATA_CACHE = "crew-routes-v1";
const ROUTES_PATH = "/api/v1/routes/";
const PAGE_PATH = CREW_SHELL[0];

async function cachePage(cache) {
  // The page is the signed-in crew's: kept only when it really is the page.
  try {
    const response = await fetch(PAGE_PATH, { credentials: "same-origin" });
    if (response.ok && !response.redirected) await cache.put(pageKey(self.location.href), response);
  } catch (error) { /* cached on the next visit */ }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(CREW_SHELL.slice(1)).then(() => cachePage(cache)))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names
          .filter((name) => name.startsWith("crew-shell-") && name !== SHELL_CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

function pageKey(url) {
  // One cached page whatever ?date= says: the script reads the date from the URL.
  return new URL(PAGE_PATH, url).href;
}

async function networkFirstPage(request) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) {
      await cache.put(pageKey(request.url), response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(pageKey(request.url));
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(SHELL_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkFirstRoutes(request) {
  const cache = await caches.open(DATA_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) {
      const headers = new Headers(response.headers);
      headers.set("X-Crew-Fetched-At", new Date().toISOString());
      const body = await response.clone().blob();
      await cache.put(request.url, new Response(body, { status: 200, headers }));
    }
    return response;
  } catch (error) {
    const cached = await cache.match(request.url);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === ROUTES_PATH) {
    event.respondWith(networkFirstRoutes(request));
  } else if (request.mode === "navigate" && url.pathname === PAGE_PATH) {
    event.respondWith(networkFirstPage(request));
  } else if (CREW_SHELL.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});
