/* The judges' tablet page's service worker, served as /judge/sw.js (judging/scoring/pages.py puts
   VERSION, SHELL and ASSETS in front of this file). It keeps the page and its files, so a reload
   without network still opens the page; the page itself keeps the judge's data (the last-seen queue
   and entries, keyed by the judge, so judges sharing a tablet never see each other's) and outbox.
   - the page (a navigation to SHELL): the network first, the kept copy when offline;
   - the page's files: the kept copy first, refreshed from the network in the background.
   API calls are never touched: the page keeps what it read, and its outbox sends the sheets. */
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
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(keptFirst(request));
  }
});
