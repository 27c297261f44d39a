// The header's navigation (templates/base.html). Everything works without this script: the menus
// are <details>, and without it the phone header shows its links unfolded. With it:
// - on phones (max 600px) the links fold behind the "Menu" button (aria-expanded);
// - one menu is open at a time, Escape closes it (focus back on its name), a click elsewhere too.
(function () {
  "use strict";
  var toggle = document.querySelector(".nav-toggle");
  var links = document.getElementById("nav-links");
  if (!toggle || !links) { return; }
  var menus = Array.prototype.slice.call(links.querySelectorAll("details.nav-menu"));

  toggle.hidden = false;
  document.documentElement.classList.add("nav-js");
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (!menu.open) { return; }
      menus.forEach(function (other) { if (other !== menu) { other.open = false; } });
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = menus.filter(function (menu) { return menu.open; });
    if (open.length) {
      open.forEach(function (menu) { menu.open = false; });
      open[0].querySelector("summary").focus();
    } else if (toggle.getAttribute("aria-expanded") === "true" && links.contains(document.activeElement)) {
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });

  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
  });
})();
