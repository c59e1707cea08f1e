// The suggestion list under a text box (an ARIA combobox with its listbox), shared by the @/#
// autocomplete (editor.js) and the PQL search box (pql.js). Each caller fetches its own
// suggestions and says what a pick does; this draws the list and takes the mouse and the keys.
(function () {
  "use strict";
  var PUNT = window.PUNT || (window.PUNT = {});

  // Once per box, before its first list; a box that already has a role keeps it.
  function combobox(el) {
    if (el.hasAttribute("role")) return;
    el.setAttribute("role", "combobox");
    el.setAttribute("aria-autocomplete", "list");
    el.setAttribute("aria-expanded", "false");
  }

  // options.name: the list is "<box id>-suggestions", or "<name>-suggestions" for a box without an id.
  // options.pick(el, item, context): put the chosen item into the box; the list is closed by then.
  function listbox(options) {
    var list = null, owner = null, items = [], context = null, active = -1;

    function close() {
      if (list) list.remove();
      if (owner) {
        owner.setAttribute("aria-expanded", "false");
        owner.removeAttribute("aria-activedescendant");
      }
      list = null; items = []; context = null; active = -1;
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
      var item = items[index], el = owner, picked = context;
      if (!item || !el) return;
      close();
      options.pick(el, item, picked);
    }
    // found: [{value, label, detail, kind?}]; context comes back to options.pick with the item.
    function open(el, found, label, current) {
      close();
      owner = el;
      if (!found.length) return;
      items = found;
      context = current;
      el.parentNode.classList.add("md-anchor");
      list = document.createElement("ul");
      list.id = (el.id || options.name) + "-suggestions";
      list.className = "md-suggest";
      list.setAttribute("role", "listbox");
      list.setAttribute("aria-label", label);
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        if (item.kind) li.dataset.kind = item.kind;
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

    document.addEventListener("focusout", function (e) {
      if (e.target === owner) setTimeout(function () { if (document.activeElement !== owner) close(); }, 150);
    });
    // Capture phase: an open list takes arrows, Enter, Tab and Esc before the form (Enter submits)
    // and punt.js (Esc leaves the box, Enter sends a chat message).
    document.addEventListener("keydown", function (e) {
      if (!list || e.target !== owner) return;
      var handled = true;
      if (e.key === "ArrowDown") highlight((active + 1) % items.length);
      else if (e.key === "ArrowUp") highlight((active - 1 + items.length) % items.length);
      else if (e.key === "Enter" || e.key === "Tab") pick(active < 0 ? 0 : active);
      else if (e.key === "Escape") close();
      else handled = false;
      if (handled) { e.preventDefault(); e.stopPropagation(); }
    }, true);

    return { open: open, close: close, isOpen: function () { return list !== null; } };
  }

  listbox.combobox = combobox;
  PUNT.listbox = listbox;
})();
