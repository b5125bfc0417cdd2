/* The main menu folds behind a "Menu" button on narrow screens (progressive enhancement:
   without JavaScript the menu is simply shown in full). Sign out stays outside the fold. */
(function () {
  "use strict";
  var header = document.querySelector(".topbar");
  var nav = header && header.querySelector("nav");
  if (!nav) { return; }
  nav.id = nav.id || "main-menu";
  var button = document.createElement("button");
  button.type = "button";
  button.className = "menu-toggle";
  button.setAttribute("aria-controls", nav.id);
  button.setAttribute("aria-expanded", "false");
  button.textContent = "Menu";
  header.insertBefore(button, nav);
  header.classList.add("menu-folded");
  button.addEventListener("click", function () {
    var folded = header.classList.toggle("menu-folded");
    button.setAttribute("aria-expanded", folded ? "false" : "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !header.classList.contains("menu-folded")) {
      header.classList.add("menu-folded");
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });
})();
