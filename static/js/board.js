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

  // Save where `item` now sits (its neighbours' ids) through the move endpoint; `undo` puts it
  // back if the server refuses. `done(ok, counts)` runs after either. A drag passes its Sortable
  // event as `origin` so editor.js can offer Undo (back to origin.from at origin.oldIndex).
  // A card blocked by open tickets refused by a done column (409, code "blocked") is moved
  // anyway with `force` once the person confirms.
  function saveMove(item, undo, done, origin, force) {
    var prev = item.previousElementSibling, next = item.nextElementSibling;
    var data = {
      column: item.parentNode.dataset.column,
      // The card now sits after `after` and before `before` (ticket ids).
      after: prev && prev.dataset.id ? prev.dataset.id : "",
      before: next && next.dataset.id ? next.dataset.id : "",
    };
    if (force) data.force = "1";
    item.setAttribute("aria-busy", "true");
    window.PUNT.post(moveUrl(item.dataset.number), data)
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          return { ok: response.ok, status: response.status, json: json };
        });
      })
      .then(function (result) {
        item.removeAttribute("aria-busy");
        if (!result.ok && result.status === 409 && result.json.code === "blocked" && !force &&
            window.confirm((result.json.error || "This card is blocked.") + " Move it to this column anyway?")) {
          saveMove(item, undo, done, origin, true);
          return;
        }
        if (result.ok) {
          updateCounts(result.json.counts);
          if (origin) document.dispatchEvent(new CustomEvent("punt:card-moved", { detail: { item: item, from: origin.from, oldIndex: origin.oldIndex } }));
        } else {
          undo();
          var text = result.json.error || "The move was refused (" + result.status + ").";
          window.PUNT.toast(text, "error");
          announce(text);
        }
        done(result.ok, result.json.counts || {});
        flushRefresh();
      })
      .catch(function () {
        item.removeAttribute("aria-busy");
        undo();
        window.PUNT.toast("Could not reach the server; the card went back.", "error");
        announce("Could not reach the server; the card went back.");
        done(false, {});
        flushRefresh();
      });
  }

  function onEnd(evt) {
    dragging = false;
    if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { flushRefresh(); return; }
    saveMove(evt.item, function () { snapBack(evt); }, function () {
      updateShown(evt.from);
      updateShown(evt.to);
    }, evt);
  }

  // ---- keyboard moves: Alt+Left/Right to the previous/next column, Alt+Up/Down within it -----
  function announce(text) {
    var box = document.getElementById("board-announcer");
    if (!box) return;
    box.textContent = "";
    // A fresh text node a moment later, so the same sentence twice is still read out.
    setTimeout(function () { box.textContent = text; }, 50);
  }
  function cardName(card) {
    var key = card.querySelector(".meta span");
    return key ? key.textContent : "The card";
  }
  function keyboardMove(card, key) {
    var list = card.parentNode;
    var oldNext = card.nextElementSibling;
    var target = list, ref;
    if (key === "ArrowUp" || key === "ArrowDown") {
      var sibling = key === "ArrowUp" ? card.previousElementSibling : card.nextElementSibling;
      if (!sibling || !sibling.classList.contains("ticket-card")) {
        announce(cardName(card) + " is already at the " + (key === "ArrowUp" ? "top" : "bottom") + " of its column.");
        return;
      }
      ref = key === "ArrowUp" ? sibling : sibling.nextElementSibling;
    } else {
      var lists = Array.prototype.slice.call(document.querySelectorAll("#board ul.cards[data-column]"));
      target = lists[lists.indexOf(list) + (key === "ArrowLeft" ? -1 : 1)];
      if (!target) {
        announce(cardName(card) + " is already in the " + (key === "ArrowLeft" ? "first" : "last") + " column.");
        return;
      }
      ref = target.firstElementChild; // the top of the next column: always loaded, always in view
    }
    place(target, card, ref);
    card.focus();
    saveMove(card, function () { place(list, card, oldNext); card.focus(); }, function (ok, counts) {
      updateShown(list);
      if (target !== list) updateShown(target);
      if (!ok) return;
      var cards = Array.prototype.slice.call(target.querySelectorAll(":scope > .ticket-card"));
      var column = target.closest(".column");
      var filtered = document.getElementById("board").dataset.filtered === "1";
      var total = !filtered && counts[target.dataset.column] ? counts[target.dataset.column] : cards.length;
      announce(cardName(card) + " moved to " + (column ? column.getAttribute("aria-label") : "the column") +
        ", position " + (cards.indexOf(card) + 1) + " of " + total + ".");
    });
  }
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].indexOf(e.key) < 0) return;
    var card = e.target;
    if (!card.classList || !card.classList.contains("ticket-card") || !card.closest("#board")) return;
    e.preventDefault(); // Alt+Left would otherwise go back in the history
    if (!canWrite) { announce("You can read this board but not move its cards."); return; }
    if (dragging || card.getAttribute("aria-busy")) return;
    keyboardMove(card, e.key);
  });

  function initSortable() {
    sortables.forEach(function (s) { s.destroy(); });
    sortables = [];
    if (!canWrite || typeof Sortable === "undefined") return;
    document.querySelectorAll("#board ul.cards").forEach(function (list) {
      sortables.push(Sortable.create(list, {
        group: "cards",
        animation: 0, // the slide animation alone made drag frames over 20 ms on a 1,000-card board (bench/board_drag.py)
        delay: 150, // on touch screens a short press starts the drag, a swipe still scrolls
        delayOnTouchOnly: true,
        ghostClass: "sortable-ghost",
        chosenClass: "sortable-chosen",
        // Pointer-event dragging everywhere (mouse, touch, pen) instead of native HTML5 DnD,
        // which phones lack and which cannot be styled.
        forceFallback: true,
        fallbackTolerance: 4, // a click on the title stays a click
        draggable: ".ticket-card", // not the "load more" sentinel at the end of a long column
        filter: "button, input",
        preventOnFilter: false,
        onStart: function () { dragging = true; },
        onEnd: onEnd,
      }));
    });
  }

  // ---- live updates -------------------------------------------------------------------
  // A teammate's change redraws only the card it touches: board.js asks the server for that
  // card as this viewer's filters show it (…/cards/<number>), then inserts, morphs, moves or
  // removes that one <li>. Typed text, focus and scroll positions elsewhere are untouched.
  var cardTemplate = body.dataset.cardUrlTemplate || ""; // …/cards/0
  var pendingCards = {}; // numbers whose update waits for a drag to end
  var cardSeq = {}; // number -> last request sent, so a late answer never overwrites a newer one

  function boardUrl() {
    return cardTemplate.replace(/cards\/0$/, "");
  }
  function filterQuery() {
    var form = document.querySelector("form.filters");
    if (!form) return location.search.replace(/^\?/, "");
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value) params.append(key, value); });
    return params.toString();
  }
  function cardNumber(payload) {
    if (payload.number) return String(payload.number);
    var key = payload.key || (payload.card && payload.card.key) || "";
    var match = /-(\d+)$/.exec(key);
    return match ? match[1] : null;
  }
  function cardEl(selector) {
    return document.querySelector("#board .ticket-card" + selector);
  }
  function isComplete(list) {
    // Another script may load long columns in pages: a sentinel marks a column not fully loaded.
    return !list.querySelector(":scope > [data-load-more]");
  }
  function updateShown(list) {
    var column = list && list.closest(".column");
    var shown = column && column.querySelector("[data-shown]");
    if (shown && isComplete(list)) shown.textContent = "(" + list.querySelectorAll(":scope > .ticket-card").length + " shown)";
  }
  function flash(el) {
    el.classList.remove("card-flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("card-flash");
  }
  // Move `el` before `ref` in `list` without losing keyboard focus (a moved node is blurred).
  function place(list, el, ref) {
    if (el.parentNode === list && (ref === el || el.nextElementSibling === ref)) return;
    var focused = el.contains(document.activeElement) ? document.activeElement : null;
    list.insertBefore(el, ref);
    if (focused && document.activeElement !== focused) focused.focus({ preventScroll: true });
  }
  // Redraw `old` from `fresh` in place: the same element stays, so focus on it survives.
  function morph(old, fresh) {
    var active = document.activeElement;
    var titleFocused = active && active !== old && old.contains(active) && active.matches("a.title");
    Array.prototype.slice.call(old.attributes).forEach(function (a) {
      if (!fresh.hasAttribute(a.name)) old.removeAttribute(a.name);
    });
    Array.prototype.slice.call(fresh.attributes).forEach(function (a) { old.setAttribute(a.name, a.value); });
    while (old.firstChild) old.removeChild(old.firstChild);
    while (fresh.firstChild) old.appendChild(fresh.firstChild);
    if (titleFocused) {
      var title = old.querySelector("a.title");
      if (title) title.focus({ preventScroll: true });
    }
  }
  function removeCard(el) {
    var list = el.parentNode;
    if (el.contains(document.activeElement)) {
      // Keep the keyboard user on the board: focus the neighbour card.
      var next = el.nextElementSibling || el.previousElementSibling;
      if (next && next.classList.contains("ticket-card")) next.focus({ preventScroll: true });
    }
    el.remove();
    updateShown(list);
  }

  function applyCard(number, status, headers, html) {
    try { updateCounts(JSON.parse(headers.get("X-Column-Counts") || "{}")); } catch (err) { /* counts stay */ }
    var existing = cardEl('[data-number="' + number + '"]');
    // This tab is saving a move of that card: redraw it once the save is answered.
    if (existing && existing.getAttribute("aria-busy")) { pendingCards[number] = true; return; }
    if (status === 204) {
      if (existing) removeCard(existing);
      return;
    }
    var list = document.querySelector('#board ul.cards[data-column="' + headers.get("X-Card-Column") + '"]');
    if (!list) { refreshBoard(); return; } // a column this board has not drawn yet
    var afterId = headers.get("X-Card-After") || "";
    var anchor = afterId ? list.querySelector(':scope > .ticket-card[data-id="' + afterId + '"]') : null;
    if (afterId && !anchor) {
      // Its place is in a part of the column this board has not loaded: leave it to the loader.
      if (existing) removeCard(existing);
      if (isComplete(list)) refreshBoard(); // a complete column lacking the anchor is stale
      return;
    }
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    var fresh = tpl.content.firstElementChild;
    if (!fresh) return;
    var from = existing ? existing.parentNode : null;
    var el = existing || fresh;
    if (existing) morph(existing, fresh);
    place(list, el, anchor ? anchor.nextElementSibling : list.firstElementChild);
    if (typeof htmx !== "undefined") htmx.process(el);
    flash(el);
    updateShown(list);
    if (from && from !== list) updateShown(from);
  }

  function refreshCard(number) {
    if (!number || !cardTemplate) return;
    if (dragging) { pendingCards[number] = true; return; }
    var seq = (cardSeq[number] || 0) + 1;
    cardSeq[number] = seq;
    var query = filterQuery();
    fetch(cardTemplate.replace(/\/cards\/0$/, "/cards/" + number) + (query ? "?" + query : ""), {
      credentials: "same-origin", headers: { "Accept": "text/html" },
    }).then(function (response) {
      if (response.status !== 200 && response.status !== 204) return null;
      return response.text().then(function (html) {
        if (cardSeq[number] !== seq) return; // a newer answer for this card is on its way
        if (dragging) { pendingCards[number] = true; return; }
        applyCard(number, response.status, response.headers, html);
      });
    }).catch(function () { /* offline: the reconnect catch-up redraws */ });
  }

  // Events that come in a burst (a sprint closed, an import) are gathered for a moment: a
  // handful are fetched card by card, more than that redraw the board once.
  var cardQueue = {}, cardTimer = null;
  function queueCard(number) {
    if (!number) return;
    cardQueue[number] = true;
    if (!cardTimer) cardTimer = setTimeout(flushCards, 30);
  }
  function flushCards() {
    cardTimer = null;
    var numbers = Object.keys(cardQueue);
    cardQueue = {};
    if (numbers.length > 8) { refreshBoard(); return; }
    numbers.forEach(refreshCard);
  }

  // The whole board again, for changes to the board's structure (columns, labels) and the
  // catch-up after a reconnect: what the reader typed, where focus was and how far each
  // column was scrolled are carried over to the new board.
  var refreshTimer = null;
  function refreshBoard() {
    if (dragging) { refreshWanted = true; return; }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(loadBoard, 120);
  }
  function loadBoard() {
    if (!document.getElementById("board") || !cardTemplate) return;
    var query = filterQuery();
    fetch(boardUrl() + (query ? "?" + query : ""), {
      credentials: "same-origin", headers: { "HX-Request": "true", "HX-Target": "board" },
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null) return;
      if (dragging) { refreshWanted = true; return; }
      swapBoard(html);
    }).catch(function () { /* offline */ });
  }
  function saveState(board) {
    var state = { values: {}, scroll: {}, left: board.scrollLeft, focus: null };
    board.querySelectorAll("input[id], textarea[id]").forEach(function (el) {
      if (el.value !== el.defaultValue) state.values[el.id] = el.value;
    });
    board.querySelectorAll("ul.cards[data-column]").forEach(function (list) {
      state.scroll[list.dataset.column] = list.scrollTop;
    });
    var active = document.activeElement;
    if (active && board.contains(active)) {
      var card = active.closest(".ticket-card");
      if (active.id) {
        state.focus = { id: active.id, start: active.selectionStart, end: active.selectionEnd };
      } else if (card) {
        state.focus = { card: card.dataset.id, title: active !== card };
      }
    }
    return state;
  }
  function restoreState(board, state) {
    Object.keys(state.values).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && board.contains(el)) el.value = state.values[id];
    });
    board.querySelectorAll("ul.cards[data-column]").forEach(function (list) {
      var top = state.scroll[list.dataset.column];
      if (top) list.scrollTop = top;
    });
    board.scrollLeft = state.left;
    var focus = state.focus, target = null;
    if (focus && focus.id) {
      target = document.getElementById(focus.id);
    } else if (focus && focus.card) {
      target = board.querySelector('.ticket-card[data-id="' + focus.card + '"]');
      if (target && focus.title) target = target.querySelector("a.title") || target;
    }
    if (target && board.contains(target)) {
      target.focus({ preventScroll: true });
      if (focus.id && typeof focus.start === "number" && target.setSelectionRange) {
        try { target.setSelectionRange(focus.start, focus.end); } catch (err) { /* not a text input */ }
      }
    }
  }
  // ---- the filtered board's live view --------------------------------------------------
  // With a filter on, the socket subscribes with the filter as PQL (#board's data-pql) and the
  // server says which cards enter, change in or leave it (view.*): cards outside the filter
  // cost this tab nothing. Until the server has accepted the query (or when it refuses it),
  // every card event is asked about as before.
  var VIEW_ID = "board";
  var view = { q: "", live: false };
  function syncView() {
    var board = document.getElementById("board");
    var q = board ? board.dataset.pql || "" : "";
    if (!socket || socket.readyState !== 1 || q === view.q) return;
    if (q) socket.send(JSON.stringify({ type: "subscribe", id: VIEW_ID, q: q }));
    else socket.send(JSON.stringify({ type: "unsubscribe", id: VIEW_ID }));
    view = { q: q, live: false };
    body.dataset.liveView = "0";
  }
  function onView(type, payload) {
    if (payload.id !== VIEW_ID) return;
    if (type === "subscribed" || type === "error" || type === "unsubscribed") {
      view.live = type === "subscribed" && payload.q === view.q;
      body.dataset.liveView = view.live ? "1" : "0";
    } else if (view.live && (type === "view.entered" || type === "view.updated")) {
      queueCard(cardNumber(payload));
    } else if (view.live && type === "view.left") {
      var number = cardNumber(payload);
      var el = number && cardEl('[data-number="' + number + '"]');
      if (el && (dragging || el.getAttribute("aria-busy"))) pendingCards[number] = true;
      else if (el) removeCard(el);
    }
  }
  // Column badges count every card of the column, filtered or not: the live view asks nothing
  // about cards outside it, so the card events move the counts themselves.
  function shiftCount(columnId, delta) {
    var badge = columnId && document.querySelector('#board .column[data-column="' + columnId + '"] [data-count]');
    var count = badge ? parseInt(badge.textContent, 10) : NaN;
    if (isNaN(count)) return;
    var counts = {};
    counts[columnId] = Math.max(0, count + delta);
    updateCounts(counts);
  }
  function countCardEvent(type, payload) {
    if (type === "board.card_created") shiftCount(payload.column_id, 1);
    else if (type === "board.card_deleted") shiftCount(payload.column_id, -1);
    else if (type === "board.card_moved" && payload.from_column_id !== payload.to_column_id) {
      shiftCount(payload.from_column_id, -1);
      shiftCount(payload.to_column_id, 1);
    }
  }

  function swapBoard(html) {
    var old = document.getElementById("board");
    if (!old) return;
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    var fresh = tpl.content.firstElementChild;
    if (!fresh || fresh.id !== "board") return;
    var state = saveState(old);
    old.replaceWith(fresh);
    if (typeof htmx !== "undefined") htmx.process(fresh);
    restoreState(fresh, state);
    initSortable();
    syncView();
  }
  function flushRefresh() {
    if (refreshWanted) { refreshWanted = false; refreshBoard(); }
    var numbers = Object.keys(pendingCards);
    pendingCards = {};
    numbers.forEach(refreshCard);
  }

  // A column renamed or given a WIP limit: redraw its header only.
  function updateColumn(payload) {
    var section = document.querySelector('#board .column[data-column="' + payload.id + '"]');
    if (!section) { refreshBoard(); return; }
    var list = section.querySelector("ul.cards");
    if (payload.name) {
      section.setAttribute("aria-label", payload.name);
      var name = section.querySelector(".column-head > span:first-child");
      if (name) name.textContent = payload.name;
      var label = section.querySelector(".quick-add label");
      if (label) label.textContent = "New ticket in " + payload.name;
    }
    if (list && "wip_limit" in payload) {
      list.dataset.wip = payload.wip_limit || "";
      var badge = section.querySelector("[data-count]");
      var count = badge ? parseInt(badge.textContent, 10) : NaN;
      if (!isNaN(count)) { var counts = {}; counts[payload.id] = count; updateCounts(counts); }
    }
  }

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "board") { initSortable(); syncView(); }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!document.getElementById("board")) return;
    if (sortables.length === 0 || !document.body.contains(sortables[0].el)) initSortable();
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
      view = { q: "", live: false }; // a new socket has no subscriptions
      syncView();
      // A change missed while disconnected: catch up once.
      if (socket.wasDown) refreshBoard();
    };
    socket.onmessage = function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (err) { return; }
      var type = data.type || "", payload = data.payload || {};
      if (type === "subscribed" || type === "unsubscribed" || type === "error" || type.indexOf("view.") === 0) {
        onView(type, payload);
      } else if (type === "presence.state") {
        presence = {};
        (payload.users || []).forEach(function (u) { presence[u.id] = u; });
        renderPresence();
      } else if (type === "presence.join" && payload.user) {
        presence[payload.user.id || payload.user_id] = payload.user;
        renderPresence();
      } else if (type === "presence.leave") {
        delete presence[payload.user_id || (payload.user && payload.user.id)];
        renderPresence();
      } else if (type.indexOf("board.card_") === 0) {
        if (view.live) countCardEvent(type, payload);
        else queueCard(cardNumber(payload));
        refreshTicket(payload.id);
      } else if (type === "board.column_updated") {
        updateColumn(payload);
      } else if (type.indexOf("board.") === 0 || type === "label.updated" || type === "label.deleted") {
        refreshBoard(); // the board's structure, or labels drawn on many cards
      } else if (type.indexOf("comment.") === 0) {
        // A comment changes nothing drawn on the card: a flash says where the talk is.
        var commented = payload.card && cardEl('[data-id="' + payload.card.id + '"]');
        if (commented && type === "comment.created") flash(commented);
        refreshTicket(payload.card && payload.card.id);
      }
    };
    socket.onclose = function (e) {
      body.dataset.live = "0";
      body.dataset.liveView = "0";
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

  // Our own edits inside the modal are not echoed back by the live feed: on close, redraw the
  // card that was open, and only if something was sent from the modal.
  var modalTicket = null, modalChanged = false;
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.target || !e.detail.target.matches("[data-modal-body]")) return;
    var article = e.detail.target.querySelector("article.ticket[data-ticket]");
    var number = article ? article.dataset.ticket : null;
    if (number !== modalTicket) { modalTicket = number; modalChanged = false; }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var config = e.detail.requestConfig || {};
    var elt = e.detail.elt;
    if (config.verb && config.verb !== "get" && elt && elt.closest && elt.closest("#modal")) modalChanged = true;
  });
  document.addEventListener("punt:modal-closed", function () {
    if (modalTicket && modalChanged) refreshCard(modalTicket);
    modalTicket = null;
    modalChanged = false;
  });

  initSortable();
  connect();
  window.PUNT.board = { refresh: refreshBoard, refreshCard: refreshCard };
})();
