// Runs in <head>: apply the saved theme choice ("light"/"dark") before the first paint.
// Without a saved choice the stylesheet follows prefers-color-scheme.
(function () {
  try {
    var saved = localStorage.getItem("punt-theme");
    if (saved === "light" || saved === "dark") document.documentElement.setAttribute("data-theme", saved);
  } catch (e) { /* storage blocked: follow the OS */ }
})();
