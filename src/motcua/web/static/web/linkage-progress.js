// A running linkage job's page: ask for its progress every 2 seconds, show it, and reload the
// page once the job is done or has failed (the page then shows the results or the error).
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-url");
  var bar = box.querySelector("progress");
  var stage = box.querySelector("[data-stage]");
  var percent = box.querySelector("[data-percent]");

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (p) {
        if (p.finished) {
          window.location.reload();
          return;
        }
        bar.value = p.percent;
        bar.textContent = p.percent + "%";
        percent.textContent = String(p.percent);
        stage.textContent = p.stage_label || p.status_label;
        window.setTimeout(tick, 2000);
      })
      .catch(function () {
        window.setTimeout(tick, 5000);
      });
  }

  window.setTimeout(tick, 2000);
})();
