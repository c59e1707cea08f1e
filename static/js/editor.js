// PUNT editing: in-place edits, Markdown preview, @/# autocomplete, drafts, undo (every page).
// Behaviour hangs off data attributes (the CSP runs no inline script):
//   [data-inplace="<input id>"]  click to open the ticket's edit form and focus that field
//   [data-md-box] [data-md-tab]  Write | Preview tabs; the server renders the preview
//   textarea[data-markdown]      @people / #tickets autocomplete (value: the suggestions URL)
//   input[data-ticket-keys]      ticket keys of every visible project (the Relations box)
//   textarea[data-draft="key"]   text kept in localStorage until the form is saved
(function () {
  "use strict";
  var PUNT = window.PUNT || (window.PUNT = {});

  // The project a page belongs to, for boxes that do not name their URLs (the chat box).
  function projectBase() {
    var m = location.pathname.match(/^\/projects\/[^/]+\/[^/]+/);
    return m ? m[0] : null;
  }

  function post(url, data) {
    if (PUNT.post) return PUNT.post(url, data);
    return Promise.reject(new Error("punt.js is missing"));
  }

  function readJson(response) {
    return response.json().catch(function () { return {}; }).then(function (json) {
      if (!response.ok) throw new Error(json.error || "The server refused (" + response.status + ").");
      return json;
    });
  }

  function toast(text, kind) { if (PUNT.toast) PUNT.toast(text, kind); }

  // ---- undo -----------------------------------------------------------------------------
  // A toast with an Undo button for a few seconds; onUndo may return a promise.
  function undoToast(text, onUndo, seconds) {
    var box = document.getElementById("messages");
    if (!box) return null;
    var el = document.createElement("div");
    el.className = "toast undo";
    el.setAttribute("role", "status");
    var span = document.createElement("span");
    span.textContent = text + " ";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn-sm";
    button.textContent = "Undo";
    button.setAttribute("data-undo", "");
    el.appendChild(span);
    el.appendChild(button);
    box.appendChild(el);
    var timer = setTimeout(function () { el.remove(); }, (seconds || 6) * 1000);
    button.addEventListener("click", function () {
      clearTimeout(timer);
      button.disabled = true;
      Promise.resolve()
        .then(onUndo)
        .then(function () { el.remove(); })
        .catch(function (err) { el.remove(); toast(err.message || "Undo failed.", "error"); });
    });
    return el;
  }
  PUNT.undoToast = undoToast;

  // Redraw the ticket on screen (modal or page) from the server.
  function refreshTicket() {
    var article = document.querySelector("article.ticket[data-url]");
    var container = article && article.closest("#modal-body, #ticket-live");
    if (!container || typeof htmx === "undefined") return;
    htmx.ajax("GET", article.dataset.url, { target: "#" + container.id, swap: "innerHTML", headers: { "HX-Target": container.id } });
  }

  // The live feed skips this tab's own changes: redraw the one card they touched (board.js
  // inserts, moves or removes it). Not on a board: nothing to do.
  function refreshCard(number) {
    if (number && PUNT.board && PUNT.board.refreshCard) PUNT.board.refreshCard(String(number));
  }
  function numberIn(url) {
    var m = /\/tickets\/(\d+)(?:\/|$)/.exec(url || "");
    return m ? m[1] : null;
  }

  // Close/reopen (HX-Trigger "punt:undo"): the undo posts the same URL the other way round.
  document.addEventListener("punt:undo", function (e) {
    var d = e.detail || {};
    refreshCard(numberIn(d.url)); // the card behind the modal shows the close at once
    undoToast(d.text || "Done.", function () {
      return post(d.url, d.data || {}).then(readJson).then(function () { refreshTicket(); refreshCard(numberIn(d.url)); });
    });
  });

  function restoreUndo(d, seconds) {
    undoToast(d.text || "Deleted.", function () {
      return post(d.restore, {}).then(readJson).then(function (json) {
        if (document.getElementById("board")) {
          refreshCard(numberIn(d.restore));
          toast((json.key || "The ticket") + " is back.", "success");
        } else if (json.url) { location.href = json.url; }
      });
    }, seconds);
  }

  // Delete (HX-Trigger "punt:deleted"): leave the ticket, offer Undo through the restore URL.
  document.addEventListener("punt:deleted", function (e) {
    var d = e.detail || {};
    if (PUNT.closeModal && PUNT.closeModal()) { refreshCard(numberIn(d.restore)); restoreUndo(d); return; }
    // A ticket page: the Undo waits for the board to load.
    try { sessionStorage.setItem("punt-undo", JSON.stringify({ text: d.text, restore: d.restore, until: Date.now() + 6000 })); } catch (err) { /* private mode */ }
    location.href = d.board;
  });
  function pendingUndo() {
    var raw = null;
    try { raw = sessionStorage.getItem("punt-undo"); sessionStorage.removeItem("punt-undo"); } catch (err) { return; }
    if (!raw) return;
    var d = JSON.parse(raw), left = (d.until - Date.now()) / 1000;
    if (left > 1) restoreUndo(d, left);
  }

  // A ticket made with the full form in the board's modal.
  document.addEventListener("punt:created", function (e) {
    var d = e.detail || {};
    if (PUNT.closeModal) PUNT.closeModal();
    refreshCard(numberIn(d.url));
    toast(d.text || "Created.", "success");
  });

  // A card dropped on the board (board.js dispatches it after the server took the move):
  // Undo moves it back between its old neighbours.
  document.addEventListener("punt:card-moved", function (e) {
    var d = e.detail || {}, item = d.item, from = d.from;
    if (!item || !from) return;
    var siblings = Array.prototype.filter.call(from.children, function (c) { return c !== item && c.dataset && c.dataset.id; });
    var above = siblings[d.oldIndex - 1], below = siblings[d.oldIndex];
    var template = document.body.dataset.moveUrlTemplate || "";
    var url = template.replace(/\/tickets\/0\/move$/, "/tickets/" + item.dataset.number + "/move");
    var key = item.querySelector(".meta span");
    var column = item.closest(".column");
    var name = column && column.querySelector(".column-head span");
    var text = (key ? key.textContent : "The card") + " moved" + (name ? " to " + name.textContent : "") + ".";
    undoToast(text, function () {
      return post(url, { column: from.dataset.column, after: above ? above.dataset.id : "", before: below ? below.dataset.id : "" })
        .then(readJson).then(function () { refreshCard(item.dataset.number); });
    });
  });

  // ---- in-place editing ---------------------------------------------------------------
  document.addEventListener("click", function (e) {
    var spot = e.target.closest && e.target.closest("[data-inplace]");
    if (spot && !e.target.closest("a, button, input, textarea") && !String(window.getSelection() || "")) {
      var article = spot.closest("article.ticket") || document;
      var toggle = article.querySelector("[data-shortcut-edit]");
      if (toggle) {
        toggle.click();
        var field = document.getElementById(spot.getAttribute("data-inplace"));
        if (field) field.focus();
      }
      return;
    }
    // Cancel puts the form back as the server drew it and forgets the draft.
    var cancel = e.target.closest && e.target.closest("[data-edit-cancel]");
    if (cancel && cancel.form) {
      cancel.form.querySelectorAll("textarea[data-draft]").forEach(forgetDraft);
      cancel.form.reset();
      cancel.form.querySelectorAll("[data-md-box]").forEach(function (box) { showTab(box, "write"); });
    }
    // The new-ticket form's Cancel inside the modal just closes it.
    var close = e.target.closest && e.target.closest("a[data-modal-close]");
    if (close && close.closest("#modal")) e.preventDefault();
  });

  // Ctrl/Cmd+Enter in a Markdown box saves its form.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.matches && e.target.matches("textarea[data-markdown]") && e.target.form) {
      e.preventDefault();
      e.target.form.requestSubmit();
    }
  });

  // A picker the server refused: the toast says why (punt.js), the picker shows the saved value again.
  document.addEventListener("htmx:responseError", function (e) {
    var form = e.detail.elt;
    if (form && form.matches && form.matches("form[data-field-form]")) form.reset();
  });

  // ---- Markdown preview -----------------------------------------------------------------
  function showTab(box, which) {
    var textarea = box.querySelector("textarea");
    var preview = box.querySelector("[data-md-preview]");
    box.querySelectorAll("[data-md-tab]").forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.getAttribute("data-md-tab") === which));
    });
    if (textarea) textarea.hidden = which === "preview";
    if (preview) preview.hidden = which !== "preview";
  }
  document.addEventListener("click", function (e) {
    var tab = e.target.closest && e.target.closest("[data-md-tab]");
    if (!tab) return;
    var box = tab.closest("[data-md-box]");
    var textarea = box && box.querySelector("textarea");
    var preview = box && box.querySelector("[data-md-preview]");
    if (!textarea || !preview) return;
    e.preventDefault();
    if (tab.getAttribute("data-md-tab") === "write") { showTab(box, "write"); textarea.focus(); return; }
    var url = box.dataset.previewUrl || (projectBase() ? projectBase() + "/markdown-preview" : null);
    if (!url) return;
    preview.textContent = "Rendering…";
    showTab(box, "preview");
    post(url, { text: textarea.value })
      .then(function (response) {
        if (!response.ok) return readJson(response);
        // The server's renderer sanitizes (nh3), exactly as for a saved description.
        return response.text().then(function (html) { preview.innerHTML = html; });
      })
      .catch(function (err) { preview.textContent = err.message || "The preview failed."; });
  });

  // ---- drafts ---------------------------------------------------------------------------
  function draftKey(el) { return "punt-draft:" + el.getAttribute("data-draft"); }
  function saveDraft(el) {
    try {
      if (el.value.trim() && el.value !== el.defaultValue) localStorage.setItem(draftKey(el), el.value);
      else localStorage.removeItem(draftKey(el));
    } catch (err) { /* private mode or full */ }
  }
  function forgetDraft(el) {
    try { localStorage.removeItem(draftKey(el)); } catch (err) { /* private mode */ }
  }
  function restoreDrafts(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("textarea[data-draft]").forEach(function (el) {
      var saved = null;
      try { saved = localStorage.getItem(draftKey(el)); } catch (err) { return; }
      if (!saved || saved === el.value) return;
      el.value = saved;
      // A description being edited when the panel closed: open the editor again.
      var form = el.closest("[data-edit-form][hidden]");
      var toggle = form && root.querySelector('[data-edit-toggle="' + form.id + '"]');
      if (toggle) toggle.click();
      el.classList.add("draft-restored");
      el.setAttribute("title", "Your unsaved text, kept from before");
    });
  }
  document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("textarea[data-draft]")) saveDraft(e.target);
  });
  // Saved: forget the draft before the fresh form is drawn (which would restore it).
  function forgetSent(e) {
    // requestConfig.elt is the form that sent, even once a closed modal took it out of the page.
    // Only a write: a GET (a redraw of the panel, a live refresh) sends no text.
    var config = e.detail.requestConfig || {};
    if (!config.verb || config.verb === "get") return;
    var form = config.elt || e.detail.elt;
    var ok = e.detail.xhr && e.detail.xhr.status >= 200 && e.detail.xhr.status < 300;
    if (ok && form && form.querySelectorAll) form.querySelectorAll("textarea[data-draft]").forEach(forgetDraft);
  }
  document.addEventListener("htmx:beforeSwap", forgetSent);
  document.addEventListener("htmx:afterRequest", forgetSent);
  // A plain (no htmx) post: forget the draft if the next page shows no error.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.hasAttribute("hx-post") || !form.querySelector) return;
    var keys = Array.prototype.map.call(form.querySelectorAll("textarea[data-draft]"), draftKey);
    if (keys.length) try { sessionStorage.setItem("punt-draft-sent", JSON.stringify(keys)); } catch (err) { /* private mode */ }
  });
  function settleSentDrafts() {
    var keys = null;
    try { keys = JSON.parse(sessionStorage.getItem("punt-draft-sent") || "null"); sessionStorage.removeItem("punt-draft-sent"); } catch (err) { return; }
    if (!keys || document.querySelector("#messages .toast.error, .errorlist")) return;
    keys.forEach(function (key) { try { localStorage.removeItem(key); } catch (err) { /* private mode */ } });
  }

  // ---- @ and # autocomplete ------------------------------------------------------------
  var seq = 0, timer = null;
  var TOKEN_RE = /(^|[\s(\[])([@#])([A-Za-z0-9_.+-]{0,40})$/;
  // The chosen @person or #ticket takes the place of the token typed before the caret.
  var suggestions = PUNT.listbox({ name: "md", pick: function (el, item, token) {
    var value = el.value, caret = el.selectionStart;
    var start = token.start;
    el.value = value.slice(0, start) + item.value + " " + value.slice(caret);
    var at = start + item.value.length + 1;
    el.setSelectionRange(at, at);
    el.focus();
    if (el.hasAttribute("data-draft")) saveDraft(el);
  } });

  function suggestUrl(el) {
    var url = el.getAttribute("data-markdown");
    if (url) return url;
    return projectBase() ? projectBase() + "/autocomplete" : null;
  }
  function lookUp(el) {
    var before = el.value.slice(0, el.selectionStart);
    var m = TOKEN_RE.exec(before);
    if (!m || el.selectionStart !== el.selectionEnd) { suggestions.close(); return; }
    var url = suggestUrl(el);
    if (!url) return;
    var kind = m[2] === "@" ? "people" : "tickets";
    var current = { kind: kind, start: before.length - m[2].length - m[3].length, q: m[3] };
    var mine = ++seq;
    clearTimeout(timer);
    timer = setTimeout(function () {
      var query = url + (url.indexOf("?") < 0 ? "?" : "&") + "kind=" + kind + "&q=" + encodeURIComponent(current.q);
      fetch(query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (json) {
          if (mine !== seq || document.activeElement !== el) return;
          suggestions.open(el, json.items || [], kind === "people" ? "People" : "Tickets", current);
        })
        .catch(function () { /* suggestions are a convenience */ });
    }, 120);
  }
  document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("textarea[data-markdown]")) { PUNT.listbox.combobox(e.target); lookUp(e.target); }
  });

  // ---- ticket keys (the Relations box: input[data-ticket-keys], its value the suggestions URL)
  var keySeq = 0, keyTimer = null;
  var keySuggestions = PUNT.listbox({ name: "keys", pick: function (el, item) {
    el.value = item.value;
    el.focus();
  } });
  document.addEventListener("input", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("input[data-ticket-keys]")) return;
    PUNT.listbox.combobox(el);
    var url = el.getAttribute("data-ticket-keys"), q = el.value.trim(), mine = ++keySeq;
    clearTimeout(keyTimer);
    if (!q) { keySuggestions.close(); return; }
    keyTimer = setTimeout(function () {
      fetch(url + "?kind=keys&q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (json) {
          if (mine !== keySeq || document.activeElement !== el) return;
          keySuggestions.open(el, json.items || [], "Tickets", null);
        })
        .catch(function () { /* suggestions are a convenience */ });
    }, 120);
  });

  // ---- start ----------------------------------------------------------------------------
  function init(root) {
    restoreDrafts(root);
    (root.querySelectorAll ? root.querySelectorAll("textarea[data-markdown]") : []).forEach(PUNT.listbox.combobox);
  }
  document.addEventListener("htmx:load", function (e) { init(e.detail.elt); });
  function start() {
    settleSentDrafts();
    init(document);
    pendingUndo();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
