/* The main menu folds behind a "Menu" button on narrow screens (progressive enhancement:
   without JavaScript the menu is simply shown in full). Sign out stays outside the fold. */
/* A table or box that scrolls sideways (phones: every wide table) and holds nothing to tab to
   becomes a tab stop, so a keyboard can scroll it (WCAG 2.1.1); it stops being one when it fits. */
(function () {
  "use strict";
  var focusable = "a[href], button, input, select, textarea, [tabindex]";
  function markScrollBoxes() {
    Array.prototype.forEach.call(document.querySelectorAll("main table, main .table-scroll"), function (box) {
      var style = window.getComputedStyle(box);
      var scrolls = /auto|scroll/.test(style.overflowX) && box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex") && !box.querySelector(focusable)) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scrolls", "");
      } else if (!scrolls && box.hasAttribute("data-scrolls")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scrolls");
      }
    });
  }
  markScrollBoxes();
  var pending;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(markScrollBoxes, 200);
  });
})();

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
  button.textContent = nav.getAttribute("data-menu-label") || "Menu";  // the page's language (base.html)
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
