// PQL autocomplete for a search box: <input data-pql="…/pql/complete">.
// The server says what fits at the caret (fields, operators, values, keywords) and which span
// of the query the chosen suggestion replaces. The list opens by itself while a word is being
// typed, after a field or an operator was picked, and on ArrowDown; never at a blank after a
// complete condition, so Enter there still searches.
(function () {
  "use strict";
  var list = null, owner = null, items = [], span = null, active = -1, seq = 0, timer = null;

  function closeList() {
    if (list) list.remove();
    if (owner) {
      owner.setAttribute("aria-expanded", "false");
      owner.removeAttribute("aria-activedescendant");
    }
    list = null; items = []; span = null; active = -1;
  }
  function highlight(index) {
    if (!list) return;
    active = index;
    Array.prototype.forEach.call(list.children, function (li, i) { li.setAttribute("aria-selected", String(i === index)); });
    if (index >= 0 && list.children[index]) {
      owner.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    }
  }
  function pick(index) {
    var item = items[index];
    if (!item || !owner || !span) return;
    var el = owner, value = el.value;
    var rest = value.slice(span.end);
    var gap = rest && /^\s/.test(rest) ? "" : " ";
    el.value = value.slice(0, span.start) + item.value + gap + rest;
    var at = span.start + item.value.length + gap.length;
    el.setSelectionRange(at, at);
    closeList();
    el.focus();
    // A field or an operator needs what follows: show it at once.
    if (item.kind !== "value" && item.kind !== "function") lookUp(el, true);
  }
  function showList(el, json) {
    closeList();
    owner = el;
    items = json.suggestions || [];
    span = json.replace;
    var typed = el.value.slice(span.start, span.end).toLowerCase();
    if (!items.length || (items.length === 1 && items[0].value.toLowerCase() === typed)) { items = []; return; }
    list = document.createElement("ul");
    list.id = el.id ? el.id + "-suggestions" : "pql-suggestions";
    list.className = "md-suggest";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Query suggestions");
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = list.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.kind = item.kind;
      var strong = document.createElement("strong");
      strong.textContent = item.label;
      var detail = document.createElement("span");
      detail.className = "muted small";
      detail.textContent = item.detail ? " " + item.detail : "";
      li.appendChild(strong);
      li.appendChild(detail);
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
      list.appendChild(li);
    });
    el.insertAdjacentElement("afterend", list);
    el.setAttribute("aria-controls", list.id);
    el.setAttribute("aria-expanded", "true");
    highlight(0);
  }
  function lookUp(el, always) {
    var caret = el.selectionStart;
    if (caret !== el.selectionEnd) { closeList(); return; }
    // Nothing typed at the caret: only when asked (a pick, ArrowDown), so Enter still searches.
    var typing = caret > 0 && !/[\s(),]/.test(el.value.charAt(caret - 1));
    if (!typing && !always) { closeList(); return; }
    var mine = ++seq;
    clearTimeout(timer);
    timer = setTimeout(function () {
      var url = el.getAttribute("data-pql") + "?q=" + encodeURIComponent(el.value) + "&cursor=" + caret;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (json) {
          if (!json || mine !== seq || document.activeElement !== el) return;
          showList(el, json);
        })
        .catch(function () { /* suggestions are a convenience */ });
    }, 100);
  }
  function init(root) {
    (root.querySelectorAll ? root.querySelectorAll("input[data-pql]") : []).forEach(function (el) {
      if (el.hasAttribute("role")) return;
      el.setAttribute("role", "combobox");
      el.setAttribute("aria-autocomplete", "list");
      el.setAttribute("aria-expanded", "false");
      el.parentNode.classList.add("md-anchor");
    });
  }
  document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("input[data-pql]")) lookUp(e.target, false);
  });
  document.addEventListener("focusout", function (e) {
    if (e.target === owner) setTimeout(function () { if (document.activeElement !== owner) closeList(); }, 150);
  });
  // Capture phase: the list takes arrows, Enter, Tab and Esc before the form (Enter submits)
  // and punt.js (Esc leaves the box).
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (!list && e.key === "ArrowDown" && el.matches && el.matches("input[data-pql]")) {
      e.preventDefault();
      lookUp(el, true);
      return;
    }
    if (!list || el !== owner) return;
    var handled = true;
    if (e.key === "ArrowDown") highlight((active + 1) % items.length);
    else if (e.key === "ArrowUp") highlight((active - 1 + items.length) % items.length);
    else if (e.key === "Enter" || e.key === "Tab") pick(active < 0 ? 0 : active);
    else if (e.key === "Escape") closeList();
    else handled = false;
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  }, true);
  // The board redrawn (htmx swaps the error beside it): the box says whether its query is valid.
  document.addEventListener("htmx:afterSettle", function () {
    var error = document.getElementById("pql-error");
    document.querySelectorAll("input[data-pql]").forEach(function (el) {
      if (error && !error.hidden) el.setAttribute("aria-invalid", "true");
      else el.removeAttribute("aria-invalid");
    });
  });

  document.addEventListener("htmx:load", function (e) { init(e.detail.elt); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(document); });
  else init(document);
})();
