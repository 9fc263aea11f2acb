/* The judges' tablet page's service worker, served as /judge/sw.js (judging/scoring/pages.py puts
   VERSION, SHELL and ASSETS in front of this file). It keeps the page and its files, so a reload
   without network still opens the page; the page itself keeps the judge's data and outbox.
   - the page (a navigation to SHELL): the network first, the kept copy when offline;
   - the judges' API reads (/api/v1/judge/...): the network first, the last answer when offline;
   - the page's files: the kept copy first, refreshed from the network in the background.
   Writes (the sheets' PUTs) are never touched: the page's outbox sends them. */
"use strict";
var CACHE = "podium-judge-" + VERSION;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll([SHELL].concat(ASSETS));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("podium-judge-") === 0 && key !== CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, key) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key || request, copy); });
    }
    return response;
  }, function () {
    return caches.match(key || request).then(function (kept) { return kept || Response.error(); });
  });
}

function keptFirst(request) {
  return caches.match(request, {ignoreSearch: true}).then(function (kept) {
    var fresh = fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(new URL(request.url).pathname, copy); });
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
  } else if (url.pathname.indexOf("/api/v1/judge/") === 0 && url.pathname.indexOf("/materials/") < 0) {
    event.respondWith(networkFirst(request));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(keptFirst(request));
  }
});
