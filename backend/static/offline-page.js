/* What the installable offline pages share (the judges' tablet, static/judging-tablet.js; the ticket
   scanner, static/ticketing-scanner.js); loaded before the page's script and kept by its service
   worker (static/offline-sw.js) with the page's other files.
   - nonce(): 18 random bytes as 24 URL-safe characters, made once for a submission or a scan, so a
     retry after a lost answer is counted once by the server;
   - csrf(): the session's CSRF token from its cookie, for a request sent with the session. */
window.PodiumOffline = (function () {
  "use strict";

  function nonce() {
    var bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    var chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    var out = "";
    for (var i = 0; i < bytes.length; i++) { out += chars[bytes[i] & 63]; }
    return out;
  }

  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)podium_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  return {nonce: nonce, csrf: csrf};
}());
