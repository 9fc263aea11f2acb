/* The scanner page's service worker, served as /scan/sw.js (ticketing/scanner/pages.py puts VERSION,
   SHELL and ASSETS in front of this file). It keeps the page, its files and the WebAssembly decoder,
   so a reload without network still opens the page and scans; the page itself keeps the lists'
   offline bundles, what it admitted and the queue of scans to sync (IndexedDB).
   - the page (a navigation to SHELL): the network first, the kept copy when offline;
   - the page's files: the kept copy first, refreshed from the network in the background.
   API calls are never touched: the page decides what to do without the network. */
"use strict";
var CACHE = "podium-scan-" + VERSION;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll([SHELL].concat(ASSETS));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("podium-scan-") === 0 && key !== CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, key) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  }, function () {
    return caches.match(key).then(function (kept) { return kept || Response.error(); });
  });
}

function keptFirst(request, path) {
  return caches.match(path).then(function (kept) {
    var fresh = fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(path, copy); });
      }
      return response;
    });
    if (kept) { fresh.catch(function () {}); return kept; }
    return fresh;
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === SHELL) {
    event.respondWith(networkFirst(request, SHELL));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(keptFirst(request, url.pathname));
  }
});
