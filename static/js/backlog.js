// Backlog planning: drag a ticket between the backlog and sprints; saved through the page
// endpoint (ticket_update's sprint), put back with a message when refused.
(function () {
  "use strict";
  var body = document.body;
  if (body.dataset.canWrite !== "1" || typeof Sortable === "undefined") return;
  var template = body.dataset.planUrlTemplate; // …/tickets/0/plan

  function snapBack(evt) {
    var ref = evt.from.children[evt.oldIndex] || null;
    if (ref !== evt.item) evt.from.insertBefore(evt.item, ref);
  }

  document.querySelectorAll("ul.backlog-list").forEach(function (list) {
    Sortable.create(list, {
      group: "plan",
      animation: 120,
      forceFallback: true,
      fallbackTolerance: 4,
      sort: false, // order inside a sprint is the board's; here only membership changes
      onEnd: function (evt) {
        if (evt.from === evt.to) return;
        var url = template.replace(/\/tickets\/0\/plan$/, "/tickets/" + evt.item.dataset.number + "/plan");
        window.PUNT.post(url, { sprint: evt.to.dataset.sprint })
          .then(function (response) {
            if (response.ok) return;
            return response.json().catch(function () { return {}; }).then(function (json) {
              snapBack(evt);
              window.PUNT.toast(json.error || "Could not plan that ticket.", "error");
            });
          })
          .catch(function () { snapBack(evt); window.PUNT.toast("Could not reach the server.", "error"); });
      },
    });
  });
})();
