// Live chat: listen on the page's socket (data-ws-path) and reload the message list via
// htmx when an event whose type starts with one of data-refresh-on arrives.
(function () {
  "use strict";
  var body = document.body;
  var path = body.dataset.wsPath;
  var prefixes = (body.dataset.refreshOn || "").split(/\s+/).filter(Boolean);
  var timer = null, retry = 1000, socket = null;

  function scrollDown() {
    var log = document.getElementById("chat-log");
    if (log) log.scrollTop = log.scrollHeight;
  }
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (typeof htmx === "undefined" || !document.getElementById("chat-log")) return;
      htmx.ajax("GET", location.pathname, { target: "#chat-log", swap: "outerHTML", headers: { "HX-Target": "chat-log" } });
    }, 100);
  }
  document.addEventListener("htmx:afterSettle", scrollDown);
  document.addEventListener("DOMContentLoaded", scrollDown);

  function connect() {
    if (!path || !("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + path + "?tab_id=" + encodeURIComponent(window.PUNT.tabId));
    socket.onopen = function () { retry = 1000; body.dataset.live = "1"; };
    socket.onmessage = function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (err) { return; }
      var type = data.type || "";
      if (prefixes.some(function (p) { return type.indexOf(p) === 0; })) refresh();
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
