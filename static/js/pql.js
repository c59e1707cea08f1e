// PQL autocomplete for a search box: <input data-pql="…/pql/complete">.
// The server says what fits at the caret (fields, operators, values, keywords) and which span
// of the query the chosen suggestion replaces. The list opens by itself while a word is being
// typed, after a field or an operator was picked, and on ArrowDown; never at a blank after a
// complete condition, so Enter there still searches.
(function () {
  "use strict";
  var PUNT = window.PUNT;
  var seq = 0, timer = null;
  // The chosen suggestion takes the place of the span the server named (with a gap after it);
  // a field or an operator needs what follows, so the next suggestions show at once.
  var suggestions = PUNT.listbox({ name: "pql", pick: function (el, item, span) {
    var value = el.value;
    var rest = value.slice(span.end);
    var gap = rest && /^\s/.test(rest) ? "" : " ";
    el.value = value.slice(0, span.start) + item.value + gap + rest;
    var at = span.start + item.value.length + gap.length;
    el.setSelectionRange(at, at);
    el.focus();
    if (item.kind !== "value" && item.kind !== "function") lookUp(el, true);
  } });

  function showList(el, json) {
    var items = json.suggestions || [], span = json.replace;
    var typed = el.value.slice(span.start, span.end).toLowerCase();
    // The one suggestion left is what is typed already: nothing to offer.
    if (items.length === 1 && items[0].value.toLowerCase() === typed) items = [];
    suggestions.open(el, items, "Query suggestions", span);
  }
  function lookUp(el, always) {
    var caret = el.selectionStart;
    if (caret !== el.selectionEnd) { suggestions.close(); return; }
    // Nothing typed at the caret: only when asked (a pick, ArrowDown), so Enter still searches.
    var typing = caret > 0 && !/[\s(),]/.test(el.value.charAt(caret - 1));
    if (!typing && !always) { suggestions.close(); return; }
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
      PUNT.listbox.combobox(el);
      el.parentNode.classList.add("md-anchor");
    });
  }
  document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("input[data-pql]")) lookUp(e.target, false);
  });
  // ArrowDown in the box opens the list; once it is open, the list takes the keys (listbox.js).
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (!suggestions.isOpen() && e.key === "ArrowDown" && el.matches && el.matches("input[data-pql]")) {
      e.preventDefault();
      lookUp(el, true);
    }
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
