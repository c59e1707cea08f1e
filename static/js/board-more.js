// Long board columns show their first cards and load the rest a page at a time when the
// column's <li data-load-more> scrolls into view (web/views/board.py: board_more). Pages
// follow the last card drawn, so a card dropped or added below it since is in the next page
// too: the card already on the board stays where the person put it, the copy is left out.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    if (!e.detail.shouldSwap || !target || !target.matches || !target.matches("[data-load-more]")) return;
    var page = document.createElement("template");
    page.innerHTML = e.detail.serverResponse;
    var dropped = false;
    page.content.querySelectorAll(".ticket-card[data-id]").forEach(function (card) {
      if (document.querySelector('#board .ticket-card[data-id="' + CSS.escape(card.dataset.id) + '"]')) {
        card.remove();
        dropped = true;
      }
    });
    if (dropped) e.detail.serverResponse = page.innerHTML;
  });
})();
