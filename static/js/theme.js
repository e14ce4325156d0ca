// The reader's theme ("light", "dark", or the system's when nothing is stored), applied before the first paint.
(function () {
  "use strict";
  var KEY = "quickpoll-theme";
  // From the system's setting the first click shows the other theme.
  var systemDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var ORDER = systemDark ? ["system", "light", "dark"] : ["system", "dark", "light"];
  // The catalogue (/jsi18n/) is deferred, so it is read when the toggle is labelled, after DOMContentLoaded.
  function gettext(text) { return typeof window.gettext === "function" ? window.gettext(text) : text; }
  function fill(format, values) { return typeof window.interpolate === "function" ? window.interpolate(format, values, true) : format.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; }); }
  function name(choice) {
    if (choice === "light") return gettext("light");
    if (choice === "dark") return gettext("dark");
    return gettext("as the system");
  }
  var root = document.documentElement;
  function stored() {
    try {
      var value = localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : "system";
    } catch (error) {
      return "system"; // storage refused: follow the system
    }
  }
  function apply(choice) {
    if (choice === "system") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", choice);
  }
  var current = stored();
  apply(current);
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector("[data-theme-toggle]");
    if (!toggle) return;
    function label(choice) {
      var next = ORDER[(ORDER.indexOf(choice) + 1) % ORDER.length];
      toggle.setAttribute("aria-label", fill(gettext("Theme: %(current)s (switch to %(next)s)"), { current: name(choice), next: name(next) }));
      toggle.title = fill(gettext("Theme: %(current)s"), { current: name(choice) });
    }
    toggle.hidden = false;
    label(current);
    toggle.addEventListener("click", function () {
      current = ORDER[(ORDER.indexOf(current) + 1) % ORDER.length];
      try {
        if (current === "system") localStorage.removeItem(KEY);
        else localStorage.setItem(KEY, current);
      } catch (error) { /* not remembered, still applied */ }
      apply(current);
      label(current);
    });
  });
})();
