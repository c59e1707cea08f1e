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
  function closeModal() {
    var modal = document.getElementById("modal");
    if (!modal || modal.hidden) return false;
    modal.hidden = true;
    modal.querySelector("[data-modal-body]").innerHTML = "";
    if (modal.dataset.returnUrl) history.pushState({}, "", modal.dataset.returnUrl);
    document.dispatchEvent(new CustomEvent("punt:modal-closed"));
    return true;
  }
  window.PUNT.closeModal = closeModal;
  document.addEventListener("click", function (e) {
    if (e.target.matches("[data-modal-close]") || e.target.id === "modal") closeModal();
  });
  // Remember where the modal was opened from before htmx pushes the ticket's URL.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var modal = document.getElementById("modal");
    if (modal && modal.hidden && e.detail.target && e.detail.target.matches("[data-modal-body]")) {
      modal.dataset.returnUrl = location.pathname + location.search;
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
