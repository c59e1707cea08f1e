// The board: drag and drop with SortableJS (saved through the move endpoint, snapped back
// when refused), live updates over the project WebSocket, and presence avatars.
(function () {
  "use strict";
  var body = document.body;
  var slug = body.dataset.projectSlug;
  var canWrite = body.dataset.canWrite === "1";
  var moveTemplate = body.dataset.moveUrlTemplate; // …/tickets/0/move
  var dragging = false;
  var refreshWanted = false;
  var sortables = [];

  function moveUrl(number) {
    return moveTemplate.replace(/\/tickets\/0\/move$/, "/tickets/" + number + "/move");
  }

  function updateCounts(counts) {
    Object.keys(counts || {}).forEach(function (columnId) {
      var column = document.querySelector('.column[data-column="' + columnId + '"]');
      if (!column) return;
      var list = column.querySelector("ul.cards");
      var limit = list && list.dataset.wip ? parseInt(list.dataset.wip, 10) : 0;
      var count = counts[columnId];
      var badge = column.querySelector("[data-count]");
      if (badge) {
        badge.textContent = limit ? count + "/" + limit : String(count);
        badge.classList.toggle("over", !!limit && count > limit);
      }
      column.classList.toggle("over-limit", !!limit && count > limit);
    });
  }

  // Put a card back where it was before a refused drop.
  function snapBack(evt) {
    var item = evt.item, from = evt.from;
    var ref = from.children[evt.oldIndex] || null;
    if (ref === item) return;
    from.insertBefore(item, ref);
  }

  function onEnd(evt) {
    dragging = false;
    var item = evt.item;
    if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { flushRefresh(); return; }
    var prev = item.previousElementSibling, next = item.nextElementSibling;
    var data = {
      column: evt.to.dataset.column,
      // The card now sits after `after` and before `before` (ticket ids).
      after: prev ? prev.dataset.id : "",
      before: next ? next.dataset.id : "",
    };
    item.setAttribute("aria-busy", "true");
    window.PUNT.post(moveUrl(item.dataset.number), data)
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          return { ok: response.ok, status: response.status, json: json };
        });
      })
      .then(function (result) {
        item.removeAttribute("aria-busy");
        if (result.ok) {
          updateCounts(result.json.counts);
          document.dispatchEvent(new CustomEvent("punt:card-moved", { detail: { item: item, from: evt.from, oldIndex: evt.oldIndex } }));
        } else {
          snapBack(evt);
          window.PUNT.toast(result.json.error || "The move was refused (" + result.status + ").", "error");
        }
        flushRefresh();
      })
      .catch(function () {
        item.removeAttribute("aria-busy");
        snapBack(evt);
        window.PUNT.toast("Could not reach the server; the card went back.", "error");
        flushRefresh();
      });
  }

  function initSortable() {
    sortables.forEach(function (s) { s.destroy(); });
    sortables = [];
    if (!canWrite || typeof Sortable === "undefined") return;
    document.querySelectorAll("#board ul.cards").forEach(function (list) {
      sortables.push(Sortable.create(list, {
        group: "cards",
        animation: 120,
        delay: 150, // on touch screens a short press starts the drag, a swipe still scrolls
        delayOnTouchOnly: true,
        ghostClass: "sortable-ghost",
        chosenClass: "sortable-chosen",
        // Pointer-event dragging everywhere (mouse, touch, pen) instead of native HTML5 DnD,
        // which phones lack and which cannot be styled.
        forceFallback: true,
        fallbackTolerance: 4, // a click on the title stays a click
        filter: "button, input",
        preventOnFilter: false,
        onStart: function () { dragging = true; },
        onEnd: onEnd,
      }));
    });
  }

  // ---- live updates -------------------------------------------------------------------
  var refreshTimer = null, flashId = null;

  function refreshBoard() {
    if (dragging) { refreshWanted = true; return; }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      var board = document.getElementById("board");
      if (!board || typeof htmx === "undefined") return;
      htmx.ajax("GET", location.pathname.replace(/\/tickets\/\d+$/, "/") + location.search, {
        target: "#board", swap: "outerHTML", headers: { "HX-Target": "board" },
      });
    }, 120);
  }
  function flushRefresh() {
    if (refreshWanted) { refreshWanted = false; refreshBoard(); }
  }

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "board") initSortable();
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!document.getElementById("board")) return;
    if (sortables.length === 0 || !document.body.contains(sortables[0].el)) initSortable();
    if (flashId) {
      var card = document.querySelector('.ticket-card[data-id="' + flashId + '"]');
      if (card) card.classList.add("card-flash");
      flashId = null;
    }
  });

  // A ticket on screen (modal or page) that someone else changed: redraw it, unless the
  // reader is in the middle of typing, in which case say so instead of losing their text.
  var staleWarned = false;
  function refreshTicket(id) {
    var article = document.querySelector("article.ticket[data-ticket-id]");
    if (!article || !id || String(id) !== article.dataset.ticketId) return;
    var container = article.closest("#modal-body, #ticket-live");
    if (!container || (container.id === "modal-body" && document.getElementById("modal").hidden)) return;
    var busy = Array.prototype.some.call(article.querySelectorAll("textarea, input[type=text], input[type=number]"),
      function (el) { return el.value !== el.defaultValue; }) ||
      !!article.querySelector("[data-edit-form]:not([hidden])");
    if (busy) {
      if (!staleWarned) window.PUNT.toast("Someone else changed this ticket; it will refresh when you are done.", "warning");
      staleWarned = true;
      return;
    }
    staleWarned = false;
    htmx.ajax("GET", article.dataset.url, { target: "#" + container.id, swap: "innerHTML", headers: { "HX-Target": container.id } });
  }

  var presence = {};
  function initials(user) {
    var name = (user.name || user.username || "?").trim().split(/\s+/);
    return (name.length > 1 ? name[0][0] + name[1][0] : name[0].slice(0, 2)).toUpperCase();
  }
  function renderPresence() {
    var box = document.getElementById("presence");
    if (!box) return;
    box.textContent = "";
    Object.keys(presence).forEach(function (id) {
      var user = presence[id];
      var span = document.createElement("span");
      span.className = "avatar";
      span.title = (user.name || user.username) + " is here";
      span.dataset.userId = id;
      if (user.avatar) {
        var img = document.createElement("img");
        img.src = user.avatar; img.alt = "";
        span.appendChild(img);
      } else {
        span.textContent = initials(user);
      }
      box.appendChild(span);
    });
  }

  var socket = null, retry = 1000;
  function connect() {
    if (!slug || !("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/api/v1/ws/" + encodeURIComponent(slug) +
      "?tab_id=" + encodeURIComponent(window.PUNT.tabId));
    socket.onopen = function () {
      retry = 1000;
      body.dataset.live = "1";
      // A change missed while disconnected: catch up once.
      if (socket.wasDown) refreshBoard();
    };
    socket.onmessage = function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (err) { return; }
      var type = data.type || "", payload = data.payload || {};
      if (type === "presence.state") {
        presence = {};
        (payload.users || []).forEach(function (u) { presence[u.id] = u; });
        renderPresence();
      } else if (type === "presence.join" && payload.user) {
        presence[payload.user.id || payload.user_id] = payload.user;
        renderPresence();
      } else if (type === "presence.leave") {
        delete presence[payload.user_id || (payload.user && payload.user.id)];
        renderPresence();
      } else if (type.indexOf("board.") === 0 || type.indexOf("column.") === 0 || type.indexOf("label.") === 0) {
        if (type !== "board.card_deleted") flashId = payload.id || (payload.card && payload.card.id) || null;
        refreshBoard();
        refreshTicket(payload.id || (payload.card && payload.card.id));
      } else if (type.indexOf("comment.") === 0) {
        refreshTicket(payload.card && payload.card.id);
      }
    };
    socket.onclose = function (e) {
      body.dataset.live = "0";
      if (e.code === 4401 || e.code === 4403) return; // signed out or removed: do not hammer
      setTimeout(function () { connect(); socket.wasDown = true; }, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  // Keep-alive so presence does not expire on a quiet board.
  setInterval(function () {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" }));
  }, 25000);

  // Opening a card in the modal; closing it returns to the board URL.
  window.addEventListener("popstate", function () {
    if (!/\/tickets\/\d+$/.test(location.pathname)) {
      var modal = document.getElementById("modal");
      if (modal && !modal.hidden) { modal.dataset.returnUrl = ""; window.PUNT.closeModal(); }
    } else {
      location.reload();
    }
  });
  // Enter on a focused card opens it.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.classList && e.target.classList.contains("ticket-card")) {
      var link = e.target.querySelector("a.title");
      if (link) { e.preventDefault(); link.click(); }
    }
  });

  // Our own edits inside the modal are not echoed back by the live feed: redraw on close.
  document.addEventListener("punt:modal-closed", refreshBoard);

  initSortable();
  connect();
  window.PUNT.board = { refresh: refreshBoard };
})();
