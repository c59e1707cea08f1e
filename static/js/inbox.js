// PUNT inbox: live unread counts and live lists (every signed-in page).
//
// One user socket per page (/api/v1/ws/user). A notification, a direct message or a read
// marker on it refreshes the top bar's counts (GET /inbox/counts) and every list on the page
// that asks for it: an element with data-live-list="<event prefixes>" and data-live-src is
// fetched again with htmx (HX-Target: its id) and swapped whole. chat.js hands its project
// socket's events to the same lists (window.PUNT.liveRefresh), and listens to this socket's
// events ("punt:user-event" on document) instead of opening a second one.
(function () {
  "use strict";
  var body = document.body;
  var COUNTED = ["notification.", "dm.", "conversation."];
  var socket = null, retry = 1000, countTimer = null, wasDown = false;
  var listTimers = {};

  function startsWithAny(type, prefixes) {
    return prefixes.some(function (p) { return p && type.indexOf(p) === 0; });
  }

  function showCounts(counts) {
    document.querySelectorAll("[data-inbox-count]").forEach(function (badge) {
      var n = counts[badge.getAttribute("data-inbox-count")];
      if (typeof n !== "number") return;
      badge.textContent = n > 99 ? "99+" : String(n);
      badge.hidden = n === 0;
    });
    var bell = document.querySelector('[data-inbox-link="notifications"]');
    if (bell && typeof counts.notifications === "number") {
      bell.setAttribute("aria-label", "Notifications" + (counts.notifications ? ", " + counts.notifications + " unread" : ""));
    }
  }

  function refreshCounts() {
    clearTimeout(countTimer);
    countTimer = setTimeout(function () {
      fetch("/inbox/counts", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (counts) { if (counts) showCounts(counts); })
        .catch(function () {});
    }, 50);
  }

  function refreshList(el) {
    var id = el.id;
    if (!id || typeof htmx === "undefined") return;
    clearTimeout(listTimers[id]);
    listTimers[id] = setTimeout(function () {
      var current = document.getElementById(id);
      if (!current) return;
      // Someone typing or with a menu open inside the list: try again a little later.
      var active = document.activeElement;
      if ((active && current.contains(active) && /^(TEXTAREA|INPUT|SELECT)$/.test(active.tagName)) ||
          current.querySelector("details[open]")) {
        refreshList(current);
        return;
      }
      htmx.ajax("GET", current.getAttribute("data-live-src") || location.pathname + location.search, {
        target: "#" + id, swap: "outerHTML", headers: { "HX-Target": id }
      });
    }, 100);
  }

  // Every list on the page that listens for this kind of event is fetched again.
  function liveRefresh(type) {
    document.querySelectorAll("[data-live-list]").forEach(function (el) {
      if (startsWithAny(type, el.getAttribute("data-live-list").split(/\s+/))) refreshList(el);
    });
  }

  // A new notification shows at once; the fetch that follows puts the exact numbers right.
  function bump(name) {
    var badge = document.querySelector('[data-inbox-count="' + name + '"]');
    if (!badge) return;
    var n = (parseInt(badge.textContent, 10) || 0) + 1;
    var counts = {};
    counts[name] = n;
    showCounts(counts);
  }

  function received(data) {
    var type = data.type || "";
    if (type === "notification.created") bump("notifications");
    if (startsWithAny(type, COUNTED)) refreshCounts();
    liveRefresh(type);
    document.dispatchEvent(new CustomEvent("punt:user-event", { detail: data }));
  }

  function connect() {
    if (!("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var tab = (window.PUNT && window.PUNT.tabId) || "";
    socket = new WebSocket(scheme + location.host + "/api/v1/ws/user?tab_id=" + encodeURIComponent(tab));
    socket.onopen = function () {
      retry = 1000;
      body.dataset.inboxLive = "1";
      if (body.dataset.wsPath === "/api/v1/ws/user") body.dataset.live = "1"; // a conversation's page (chat.js)
      // Whatever arrived while the socket was down: catch up once.
      if (wasDown) { refreshCounts(); liveRefresh("notification."); liveRefresh("dm."); }
    };
    socket.onmessage = function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (err) { return; }
      if (data && data.type && data.type !== "pong") received(data);
    };
    socket.onclose = function (e) {
      body.dataset.inboxLive = "0";
      if (body.dataset.wsPath === "/api/v1/ws/user") body.dataset.live = "0";
      if (e.code === 4401 || e.code === 4403) return; // signed out: do not hammer
      wasDown = true;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  window.PUNT = window.PUNT || {};
  window.PUNT.liveRefresh = liveRefresh;
  window.PUNT.inboxSocket = true;
  // A read marked in this tab (htmx "Mark read") updates the counts at once, not only via the socket.
  document.addEventListener("htmx:afterRequest", function (e) {
    var path = (e.detail && e.detail.requestConfig && e.detail.requestConfig.path) || "";
    if (/^\/notifications\/\d+\/read/.test(path)) refreshCounts();
  });
  setInterval(function () { if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" })); }, 25000);
  connect();
})();
