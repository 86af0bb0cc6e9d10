// The till's service worker, served from the site's root (/till-sw.js) so that its scope
// covers /till and /api/v1/till/catalog. It keeps the till's pages, their static files and
// the last catalog the till had: network first, the kept copy when the network fails.
// Nothing else is touched: other pages, and every request but a GET, go straight out (the
// sales themselves wait in the page's IndexedDB, never here).
"use strict";

const CACHE = "comptoir-till-v1";
const STATIC = [
  "/static/app.css", "/static/till-sync.css", "/static/sell.css", "/static/till-records.css", "/static/till-records.js",
  "/static/vendor/htmx-2.0.8.min.js", "/static/live.js", "/static/forms.js", "/static/till.js",
  "/static/sell.js", "/static/till-offline.js", "/static/favicon.svg", "/till.webmanifest",
];
// The till's pages, and the catalog, kept as last seen.
const PAGES = /^\/till(\/(sell|reports|tickets|clock))?\/?$/;
const CATALOG = "/api/v1/till/catalog";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => Promise.all(STATIC.map((path) => cache.add(path).catch(() => null))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("comptoir-till-") && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function kept(request, url) {
  return caches.open(CACHE).then((cache) => cache.match(request)
    // A page asked with a query (?table=…, ?done=…) falls back to the page itself.
    .then((found) => found || cache.match(url.pathname)));
}

function networkFirst(request, url) {
  return fetch(request).then((response) => {
    // A redirect (the till locked, someone else switched in) or an error is not kept: the
    // page kept before it stays the one shown offline.
    // A page asked with a query (a table's bill) is not kept either: it is the server's now.
    if (response.ok && !response.redirected && response.type === "basic" && !url.search) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
    }
    return response;
  }).catch(() => kept(request, url).then((found) => {
    if (found) return found;
    return new Response("", { status: 503, statusText: "offline" });
  }));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (PAGES.test(path) || path === CATALOG || STATIC.includes(path)) {
    event.respondWith(networkFirst(request, url));
  }
});
