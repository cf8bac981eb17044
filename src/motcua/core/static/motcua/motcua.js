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
