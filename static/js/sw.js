/* Chatsite's service worker (served at /sw.js by chatsite.views.service_worker,
 * which prepends CHATSITE_SW = {version, shell, offline}).
 *
 * It keeps the app shell (CSS, scripts, icons, the offline page) so that the
 * installed app starts fast, and nothing else: pages, messages and every
 * /api/, /ws/, /admin/ or /accounts/ answer go to the network and are never
 * stored, since they carry personal data. */
"use strict";

var CACHE = "chatsite-shell-" + CHATSITE_SW.version;
var SHELL = new Set(CHATSITE_SW.shell);

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) {
        // Past the HTTP cache: a new version must not store the old files.
        return cache.addAll(CHATSITE_SW.shell.map(function (url) { return new Request(url, { cache: "reload" }); }));
      })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  // Older versions of the shell go: one cache, the current one.
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (name) {
          return name.indexOf("chatsite-") === 0 && name !== CACHE;
        }).map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SHELL.has(url.pathname) && url.pathname !== CHATSITE_SW.offline) {
    // Cache first: the shell's version is in the cache name.
    event.respondWith(caches.match(request, { cacheName: CACHE }).then(function (hit) {
      return hit || fetch(request);
    }));
    return;
  }
  if (request.mode === "navigate") {
    // Pages: network only; offline, the cached offline page instead of an error.
    event.respondWith(fetch(request).catch(function () {
      return caches.match(CHATSITE_SW.offline, { cacheName: CACHE });
    }));
  }
  // Anything else (the API, sockets, admin, accounts): the browser's own
  // network request, untouched and never stored.
});
