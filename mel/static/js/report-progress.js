// Follows a report run's progress on its page until it is done (no library, works offline).
(function () {
  var box = document.getElementById("run");
  if (!box) return;
  var state = box.getAttribute("data-state");
  if (state !== "queued" && state !== "running") return;
  var url = box.getAttribute("data-status-url");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (run) {
        document.getElementById("bar").value = run.progress;
        document.getElementById("percent").textContent = run.progress + "%";
        if (run.state === "done") {
          window.location.reload();
          return;
        }
        if (run.state === "failed" || run.state === "stopped") {
          window.location.reload();
          return;
        }
        document.getElementById("stage").textContent = (run.state === "queued" && run.position)
          ? "Queued — position " + run.position + " of " + run.waiting + "…"
          : run.stage.charAt(0).toUpperCase() + run.stage.slice(1) + "…";
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 700);
})();
