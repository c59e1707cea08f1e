// Project settings: drag the columns' rows to reorder the board. The new order goes through the
// same form action as the ↑/↓ buttons (columns_reorder), so the server checks it the same way.
(function () {
  "use strict";
  function init() {
    var body = document.getElementById("column-order");
    var form = document.getElementById("column-order-form");
    if (!body || !form || typeof Sortable === "undefined") return;
    Sortable.create(body, {
      handle: ".drag-handle",
      animation: 150,
      onEnd: function (evt) {
        if (evt.oldIndex === evt.newIndex) return;
        Array.prototype.forEach.call(form.querySelectorAll('input[name="order"]'), function (el) { el.remove(); });
        Array.prototype.forEach.call(body.querySelectorAll("tr[data-column]"), function (row) {
          var input = document.createElement("input");
          input.type = "hidden"; input.name = "order"; input.value = row.dataset.column;
          form.appendChild(input);
        });
        form.submit();
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();

// The "add member" field suggests people already on the site (a <datalist> filled as one types).
(function () {
  "use strict";
  function init() {
    var input = document.querySelector("input[data-people]");
    var list = input && document.getElementById(input.getAttribute("list"));
    if (!input || !list) return;
    var timer = null, asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (!q || q === asked) return;
        asked = q;
        fetch(input.dataset.people + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (data) {
            list.textContent = "";
            data.items.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.username;
              option.label = item.name + (item.email ? " <" + item.email + ">" : "");
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 200);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
