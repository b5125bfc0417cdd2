// Follows a run's progress on its page until it is done (a report run and its publishing, a handbook run:
// templates/reporting/run.html, templates/guidelines/run.html; the bar is _macros.html run_progress). No library,
// works offline.
(function () {
  var box = document.getElementById("run");
  if (!box) return;
  function pending(state) { return state === "queued" || state === "running"; }
  var state = box.getAttribute("data-state");
  var publishing = pending(box.getAttribute("data-publish-state"));
  if (!pending(state) && !publishing) return;
  var url = box.getAttribute("data-status-url");
  // The page's words, in its language (the section's data-words); English without them.
  var words = JSON.parse(box.getAttribute("data-words") || "{}");
  function say(key, english, values) {
    return (words[key] || english).replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }
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
        var stage = run.stage_words || run.stage;
        document.getElementById("stage").textContent = publishing ? say("publishing", "Publishing…", {}) + " " + stage
          : (run.state === "queued" && run.position)
            ? say("queued", "Queued — position %(num)s of %(waiting)s…", {num: run.position, waiting: run.waiting})
            : capitalised(stage) + "…";
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 700);
})();
