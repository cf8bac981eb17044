// The design system's behaviour (error summary focus, skip link, navigation toggle) and a
// confirmation before buttons that end something (sign out, withdraw, refuse).
import { initAll } from "../govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// A table wider than a phone scrolls inside its box: the box takes the keyboard focus (so it
// scrolls with the arrow keys, whatever the window's width becomes) and is named by the table's
// caption or the heading above it.
for (const box of document.querySelectorAll(".motcua-table-wrap")) {
  const caption = box.querySelector("caption");
  let heading = box.previousElementSibling;
  while (heading && !/^H[1-6]$/.test(heading.tagName)) heading = heading.previousElementSibling;
  const name = caption || heading || document.querySelector("h1");
  box.tabIndex = 0;
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", name ? name.textContent.trim() : document.title);
}
