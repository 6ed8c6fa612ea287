// Follows an import run on its page: polls the run's JSON (the REST API, with the page's session)
// until it has finished, updating progress and counts, then shows the outcome and the row report.
(function () {
  "use strict";
  var root = document.getElementById("import-run");
  if (!root) { return; }
  var text = JSON.parse(document.getElementById("import-run-text").textContent);
  var finished = ["succeeded", "failed"];
  var delay = 1000;

  function field(name) { return root.querySelector('[data-field="' + name + '"]'); }
  function set(name, value) {
    var node = field(name);
    if (node) { node.textContent = value === null || value === undefined ? "—" : String(value); }
  }
  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_match, key) { return String(values[key]); });
  }
  function time(value) { return value ? new Date(value).toLocaleString() : null; }

  function render(run) {
    var badge = field("status");
    badge.textContent = text.statuses[run.status] || run.status;
    badge.className = "badge fs-6 " + (run.status === "succeeded" ? "text-bg-success"
      : run.status === "failed" ? "text-bg-danger" : "text-bg-secondary");
    ["rows_processed", "created_count", "updated_count", "unchanged_count", "failed_count"].forEach(function (name) {
      set(name, run[name]);
    });
    set("rows_total", run.rows_total === null ? "?" : run.rows_total);
    set("started", time(run.started));
    set("finished", time(run.finished));
    var progress = field("progress");
    var bar = progress.firstElementChild;
    var done = finished.indexOf(run.status) !== -1;
    var share = done ? 100 : (run.rows_total ? Math.floor(100 * run.rows_processed / run.rows_total) : 0);
    bar.style.width = share + "%";
    progress.setAttribute("aria-valuenow", run.rows_processed);
    progress.setAttribute("aria-valuemax", run.rows_total || 0);
    if (!done) { return; }
    bar.classList.remove("progress-bar-striped", "progress-bar-animated");
    set("summary", run.status === "succeeded" ? format(text.succeeded, {
      created: run.created_count, updated: run.updated_count, unchanged: run.unchanged_count
    }) : format(text.failed, { n: run.errors.length }));
    var box = field("errors");
    var body = box.querySelector("tbody");
    body.replaceChildren();
    run.errors.forEach(function (problem) {
      var row = document.createElement("tr");
      [problem.row, problem.field, problem.message].forEach(function (value, index) {
        var cell = document.createElement("td");
        var holder = cell;
        if (index === 1) { holder = document.createElement("code"); cell.appendChild(holder); }
        holder.textContent = String(value);
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
    box.hidden = run.errors.length === 0;
  }

  function poll() {
    fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (run) {
        root.dataset.status = run.status;
        render(run);
        if (finished.indexOf(run.status) === -1) {
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);  // the server is busy or gone: ask less often
        window.setTimeout(poll, delay);
      });
  }

  if (finished.indexOf(root.dataset.status) === -1) {
    window.setTimeout(poll, delay);
  }
}());
