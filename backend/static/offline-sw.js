/* The service worker of an installable page that keeps working offline (the judges' tablet, served
   as /judge/sw.js; the ticket scanner, as /scan/sw.js). backend/pages/offline.py puts the page's
   VERSION, SHELL, CACHE_PREFIX and ASSETS in front of this file. It keeps the page and its files, so
   a reload without network still opens the page; the page itself keeps its own data (the judge's
   queue, entries and outbox; the scanner's offline bundles and queue of scans).
   - the page (a navigation to SHELL): the network first, the kept copy when offline;
   - the page's files: the kept copy first, refreshed from the network in the background.
   API calls are never touched: the page decides what to do without the network. */
"use strict";
var CACHE = CACHE_PREFIX + VERSION;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll([SHELL].concat(ASSETS));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf(CACHE_PREFIX) === 0 && key !== CACHE;
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
