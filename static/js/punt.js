// PUNT's page script (no build step): theme toggle, per-tab id, toasts, modal, keyboard shortcuts.
(function () {
  "use strict";

  // One id per browser tab: sent as X-Tab-Id on our own writes so the live feed skips the echo.
  var tabId = sessionStorage.getItem("punt-tab-id");
  if (!tabId) {
    tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);
    sessionStorage.setItem("punt-tab-id", tabId);
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function toast(text, kind) {
    var box = document.getElementById("messages");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast " + (kind || "");
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, kind === "error" ? 7000 : 4000);
  }

  // fetch() wrapper for our own page endpoints: form-encoded POST with CSRF and tab id.
  function post(url, data) {
    var body = new URLSearchParams();
    Object.keys(data || {}).forEach(function (k) {
      if (data[k] !== null && data[k] !== undefined) body.append(k, data[k]);
    });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Tab-Id": tabId, "Accept": "application/json" },
      body: body,
    });
  }

  window.PUNT = { tabId: tabId, toast: toast, post: post, csrfToken: csrfToken };

  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-Tab-Id"] = tabId;
  });
  // An htmx request the server refused: show its message instead of failing silently.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr, text = "Something went wrong (" + xhr.status + ").";
    try { text = JSON.parse(xhr.responseText).error || text; } catch (err) { /* HTML error page */ }
    toast(text, "error");
  });

  // Server flash messages fade away after a while.
  setTimeout(function () {
    document.querySelectorAll("#messages .toast").forEach(function (el) { el.remove(); });
  }, 6000);

  // Theme toggle: light → dark → (OS default); remembered per browser.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-theme-toggle]");
    if (!btn) return;
    var root = document.documentElement;
    var dark = root.getAttribute("data-theme") === "dark" ||
      (!root.hasAttribute("data-theme") && window.matchMedia("(prefers-color-scheme: dark)").matches);
    var next = dark ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try { localStorage.setItem("punt-theme", next); } catch (err) { /* private mode */ }
  });

  // Modal: a ticket opened from the board. The page's URL follows it so reload/back work.
  // While it is open, Tab and Shift+Tab cycle inside it; on close, focus goes back to what
  // opened it (the card), found again by its id if the board was redrawn meanwhile.
  var opener = null, openerCardId = null, refocusCardId = null;
  function focusables(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll('a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])'),
      function (el) {
        if (el.getClientRects().length === 0 || el.closest("[hidden], [inert]")) return false;
        // A radio group is one Tab stop: its checked button, or its first when none is.
        if (el.type === "radio" && el.name && !el.checked) {
          var group = (el.form || root).querySelectorAll('input[type=radio][name="' + CSS.escape(el.name) + '"]');
          return !Array.prototype.some.call(group, function (r) { return r.checked; }) && group[0] === el;
        }
        return true;
      }
    );
  }
  function cardById(id) {
    return id ? document.querySelector('.ticket-card[data-id="' + CSS.escape(id) + '"]') : null;
  }
  function restoreFocus() {
    var target = opener && opener.isConnected ? opener : cardById(openerCardId);
    refocusCardId = openerCardId;
    opener = openerCardId = null;
    if (target) target.focus();
    setTimeout(function () { refocusCardId = null; }, 3000);
  }
  function closeModal() {
    var modal = document.getElementById("modal");
    if (!modal || modal.hidden) return false;
    modal.hidden = true;
    modal.querySelector("[data-modal-body]").innerHTML = "";
    if (modal.dataset.returnUrl) history.pushState({}, "", modal.dataset.returnUrl);
    restoreFocus();
    document.dispatchEvent(new CustomEvent("punt:modal-closed"));
    return true;
  }
  // The board redrawn right after a close (our own edits) would drop focus: put it back on the card.
  document.addEventListener("htmx:afterSettle", function () {
    if (!refocusCardId) return;
    var active = document.activeElement;
    if (!active || active === document.body || !active.isConnected) {
      var card = cardById(refocusCardId);
      if (card) { card.focus(); refocusCardId = null; }
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Tab" || e.ctrlKey || e.altKey || e.metaKey) return;
    var modal = document.getElementById("modal");
    if (!modal || modal.hidden) return;
    var items = focusables(modal.querySelector(".modal"));
    if (!items.length) return;
    var active = document.activeElement, index = items.indexOf(active), next;
    if (index < 0) {
      // Focus on a non-tabbable spot (the title): step from its place in the document.
      var after = items.filter(function (el) {
        return active && active.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;
      });
      next = e.shiftKey ? items[items.length - after.length - 1] : after[0];
      if (!modal.contains(active)) next = null;
    } else {
      next = items[index + (e.shiftKey ? -1 : 1)];
    }
    e.preventDefault();
    (next || (e.shiftKey ? items[items.length - 1] : items[0])).focus();
  });
  // Focus that lands behind the open dialog (a click through, a script) comes back into it.
  document.addEventListener("focusin", function (e) {
    var modal = document.getElementById("modal");
    // Toasts (an Undo button) stay reachable.
    if (!modal || modal.hidden || modal.contains(e.target) || e.target.closest("#messages")) return;
    var items = focusables(modal.querySelector(".modal"));
    if (items.length) items[0].focus();
  });
  window.PUNT.closeModal = closeModal;
  document.addEventListener("click", function (e) {
    if (e.target.matches("[data-modal-close]") || e.target.id === "modal") closeModal();
  });
  // Remember where the modal was opened from before htmx pushes the ticket's URL.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var modal = document.getElementById("modal");
    if (modal && modal.hidden && e.detail.target && e.detail.target.matches("[data-modal-body]")) {
      modal.dataset.returnUrl = location.pathname + location.search;
      var card = e.detail.elt && e.detail.elt.closest && e.detail.elt.closest(".ticket-card");
      opener = card || (document.activeElement !== document.body ? document.activeElement : e.detail.elt);
      openerCardId = card ? card.getAttribute("data-id") : null;
      refocusCardId = null;
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.matches("[data-modal-body]")) {
      var modal = document.getElementById("modal");
      modal.hidden = false;
      var focus = modal.querySelector("[autofocus]") || modal.querySelector("h1");
      if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus(); }
    }
  });

  // The skip link moves focus without touching the URL: a hash change fires popstate, which
  // the board's history handling reads as navigation.
  document.addEventListener("click", function (e) {
    var link = e.target.closest(".skip-link");
    var main = link && document.getElementById("main");
    if (!main) return;
    e.preventDefault();
    main.focus();
    main.scrollIntoView();
  });

  // Board on a phone: the Filters toggle folds the filter selects in and out; the column
  // switcher scrolls the board to a column and follows the board when it is swiped.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-filters-toggle]");
    if (!btn) return;
    var bar = btn.closest(".board-bar");
    var open = bar.classList.toggle("open");
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  });
  function boardColumnLeft(board, column) {
    return column.offsetLeft - parseFloat(getComputedStyle(board).paddingLeft || "0");
  }
  document.addEventListener("change", function (e) {
    if (!e.target.matches || !e.target.matches("[data-column-switcher]")) return;
    var board = document.getElementById("board");
    var column = board && board.querySelector('.column[data-column="' + CSS.escape(e.target.value) + '"]');
    if (column) board.scrollTo({ left: boardColumnLeft(board, column), behavior: "smooth" });
  });
  var switcherTimer = null;
  document.addEventListener("scroll", function (e) {
    if (!e.target.id || e.target.id !== "board") return;
    clearTimeout(switcherTimer);
    switcherTimer = setTimeout(function () {
      var board = e.target, switcher = document.querySelector("[data-column-switcher]");
      if (!switcher || !board.isConnected) return;
      var best = null, distance = Infinity;
      board.querySelectorAll(".column[data-column]").forEach(function (column) {
        var d = Math.abs(boardColumnLeft(board, column) - board.scrollLeft);
        if (d < distance) { distance = d; best = column; }
      });
      if (best) switcher.value = best.getAttribute("data-column");
    }, 120);
  }, true);

  // Keyboard shortcuts: c new ticket, / search, e edit, Esc close. Never while typing.
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      // One step per press: leave the field, then close the edit form, then the modal.
      if (typing(document.activeElement)) { document.activeElement.blur(); e.preventDefault(); return; }
      var editing = document.querySelector("[data-edit-form]:not([hidden])");
      if (editing && editing.closest("#modal:not([hidden]), main")) {
        var cancel = editing.querySelector("[data-edit-cancel]");
        if (cancel) { cancel.click(); e.preventDefault(); return; }
      }
      if (closeModal()) e.preventDefault();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var target;
    if (e.key === "/") {
      target = document.querySelector("[data-shortcut-search]");
      if (target) { e.preventDefault(); target.focus(); target.select && target.select(); }
    } else if (e.key === "c") {
      target = document.querySelector("[data-shortcut-new]");
      if (target) {
        e.preventDefault();
        if (target.tagName === "A") { target.click(); } else { target.focus(); }
      }
    } else if (e.key === "e") {
      var scope = document.querySelector("#modal:not([hidden])") || document;
      target = scope.querySelector("[data-shortcut-edit]");
      if (target) { e.preventDefault(); target.click(); }
    } else if (e.key === "?") {
      target = document.getElementById("shortcut-help");
      if (target) { e.preventDefault(); target.hidden = !target.hidden; }
    }
  });

  // Page behaviour declared by data attributes, never inline handlers: the Content-Security-Policy
  // runs no inline script, and a name shown in a confirm stays text, never code.
  // [data-confirm] on a form asks first. Capture phase: a refusal stops htmx's handlers too.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  // [data-submit-on-change] on a select submits its form (through htmx when the form uses it).
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("[data-submit-on-change]") && el.form) el.form.requestSubmit();
  });
  // Enter in a text input of such a form fires both the change (one submit) and the browser's
  // implicit submission (a second): the same values sent again within a second are dropped.
  // Capture phase, so htmx never sees the repeat.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.querySelector || !form.querySelector("[data-submit-on-change]")) return;
    var sent = new URLSearchParams(new FormData(form)).toString();
    var now = Date.now();
    if (form.puntLastSent === sent && now - form.puntLastSentAt < 1000) {
      e.preventDefault();
      e.stopImmediatePropagation();
      return;
    }
    form.puntLastSent = sent;
    form.puntLastSentAt = now;
  }, true);
  // [data-submit-on-enter] on a textarea: Enter sends, Shift+Enter starts a new line.
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
    if (el.matches && el.matches("[data-submit-on-enter]") && el.form) {
      e.preventDefault();
      el.form.requestSubmit();
    }
  });
  // [data-reset-on-success] on an htmx form empties it once the server took it.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (e.detail.successful && form && form.matches && form.matches("form[data-reset-on-success]")) form.reset();
  });

  // Inline edit toggles ([data-edit-toggle="id"] shows the form, hides the view).
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-edit-toggle]");
    if (!btn) return;
    var form = document.getElementById(btn.getAttribute("data-edit-toggle"));
    if (!form) return;
    e.preventDefault();
    form.hidden = !form.hidden;
    var view = document.getElementById(form.getAttribute("data-edit-form"));
    if (view) view.hidden = !form.hidden;
    if (!form.hidden) {
      var first = form.querySelector("textarea, input:not([type=hidden])");
      if (first) first.focus();
    }
  });
})();
