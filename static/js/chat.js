// Live chat: listen on the page's socket (data-ws-path) and reload the message list via
// htmx when an event whose type starts with one of data-refresh-on arrives.
(function () {
  "use strict";
  var body = document.body;
  var path = body.dataset.wsPath;
  var prefixes = (body.dataset.refreshOn || "").split(/\s+/).filter(Boolean);
  var timer = null, retry = 1000, socket = null;

  var keepScroll = null;
  function scrollDown(e) {
    var log = document.getElementById("chat-log");
    // Loading older messages or paging back keeps the reader where they are.
    if (!log || log.hasAttribute("data-paged-back")) return;
    if (e && e.detail && e.detail.target && e.detail.target.id !== "chat-log") return;
    // A reader scrolled up into history stays there; new messages wait below.
    if (keepScroll !== null) { log.scrollTop = keepScroll; keepScroll = null; return; }
    log.scrollTop = log.scrollHeight;
  }
  function busy(log) {
    // Someone typing an edit or choosing a reaction: do not swap the list under them.
    var active = document.activeElement;
    return (active && log.contains(active) && active.tagName === "TEXTAREA") || !!log.querySelector("details[open]");
  }
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var log = document.getElementById("chat-log");
      if (typeof htmx === "undefined" || !log) return;
      // A reader paging through history keeps that page; the latest arrive when they jump back.
      if (log.hasAttribute("data-paged-back")) return;
      if (busy(log)) { refresh(); return; }
      htmx.ajax("GET", location.pathname, { target: "#chat-log", swap: "outerHTML", headers: { "HX-Target": "chat-log" } });
    }, busy(document.getElementById("chat-log") || document.body) ? 1500 : 100);
  }
  document.addEventListener("htmx:afterSettle", scrollDown);
  // Every request that redraws the list (live refresh, post, edit, delete, react): after "load
  // older" it asks for everything from the oldest message shown, so none drop off, and a reader
  // scrolled up into history keeps their place.
  document.addEventListener("htmx:configRequest", function (e) {
    var log = document.getElementById("chat-log");
    if (!log || !e.detail.target || e.detail.target.id !== "chat-log") return;
    // One's own new message (the form sits outside the list) always scrolls into view.
    var fromList = e.detail.elt && log.contains(e.detail.elt);
    keepScroll = fromList && log.scrollHeight - log.scrollTop - log.clientHeight > 40 ? log.scrollTop : null;
    var oldest = log.querySelector("li[data-message]");
    if (log.hasAttribute("data-expanded") && oldest && e.detail.path.indexOf("?") < 0) {
      e.detail.path += "?since=" + encodeURIComponent(oldest.dataset.message);
    }
  });
  // Older messages were loaded: remember it on the list (the server keeps it on redraws).
  document.addEventListener("htmx:afterSwap", function (e) {
    var log = document.getElementById("chat-log");
    if (log && e.detail && e.detail.target && /^load-older-/.test(e.detail.target.id || "")) log.setAttribute("data-expanded", "");
  });
  document.addEventListener("DOMContentLoaded", function () { scrollDown(); });

  function received(data) {
    var type = data.type || "";
    if (prefixes.some(function (p) { return type.indexOf(p) === 0; })) refresh();
  }
  // Conversations listen on the user socket inbox.js keeps open on every page.
  if (path === "/api/v1/ws/user" && window.PUNT && window.PUNT.inboxSocket) {
    document.addEventListener("punt:user-event", function (e) { received(e.detail || {}); });
    path = "";
  }

  function connect() {
    if (!path || !("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + path + "?tab_id=" + encodeURIComponent(window.PUNT.tabId));
    socket.onopen = function () { retry = 1000; body.dataset.live = "1"; };
    socket.onmessage = function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (err) { return; }
      received(data);
      // The page's other live lists (the topics) follow the project's events too.
      if (window.PUNT && window.PUNT.liveRefresh) window.PUNT.liveRefresh(data.type || "");
    };
    socket.onclose = function (e) {
      body.dataset.live = "0";
      if (e.code === 4401 || e.code === 4403) return;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  setInterval(function () { if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" })); }, 25000);
  connect();
})();
