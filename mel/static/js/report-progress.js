// Follows a report run's progress on its page until it is done, and so its publishing (no library, works offline).
(function () {
  var box = document.getElementById("run");
  if (!box) return;
  function pending(state) { return state === "queued" || state === "running"; }
  var state = box.getAttribute("data-state");
  var publishing = pending(box.getAttribute("data-publish-state"));
  if (!pending(state) && !publishing) return;
  var url = box.getAttribute("data-status-url");
  function capitalised(text) { return text.charAt(0).toUpperCase() + text.slice(1); }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (run) {
        document.getElementById("bar").value = run.progress;
        document.getElementById("percent").textContent = run.progress + "%";
        // Finished (done, failed or stopped), or publishing came to an end: the page shows the outcome.
        if (publishing ? !pending(run.publish_state) : !pending(run.state)) {
          window.location.reload();
          return;
        }
        document.getElementById("stage").textContent = publishing ? "Publishing… " + run.stage
          : (run.state === "queued" && run.position)
            ? "Queued — position " + run.position + " of " + run.waiting + "…"
            : capitalised(run.stage) + "…";
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 700);
})();
