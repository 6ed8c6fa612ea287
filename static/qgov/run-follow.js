// What the pages of background runs (imports, reports) share: reading and writing the run's fields
// on the page, its status badge, and polling the run's JSON (the REST API, with the page's session)
// until it has finished, asking less often while the server is busy or gone.
window.qgovRun = (function () {
  "use strict";
  var FINISHED = ["succeeded", "failed"];

  function isFinished(status) { return FINISHED.indexOf(status) !== -1; }

  function fields(root) {
    function field(name) { return root.querySelector('[data-field="' + name + '"]'); }
    function set(name, value) {
      var node = field(name);
      if (node) { node.textContent = value === null || value === undefined || value === "" ? "—" : String(value); }
    }
    return { field: field, set: set };
  }

  function showStatus(badge, status, labels) {
    badge.textContent = labels[status] || status;
    badge.className = "badge fs-6 " + (status === "succeeded" ? "text-bg-success"
      : status === "failed" ? "text-bg-danger" : "text-bg-secondary");
  }

  // Calls render(run) with each answer until the run has finished (nothing to do if it already has).
  function follow(root, render) {
    var delay = 1000;
    function poll() {
      fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (run) {
          root.dataset.status = run.status;
          render(run);
          delay = 1000;
          if (!isFinished(run.status)) { window.setTimeout(poll, delay); }
        })
        .catch(function () {
          delay = Math.min(delay * 2, 30000);
          window.setTimeout(poll, delay);
        });
    }
    if (!isFinished(root.dataset.status)) { window.setTimeout(poll, delay); }
  }

  return { fields: fields, follow: follow, isFinished: isFinished, showStatus: showStatus };
}());
