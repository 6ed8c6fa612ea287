// Follows an import run on its page (qgov/run-follow.js polls it), updating progress and counts,
// then shows the outcome and the row report.
(function () {
  "use strict";
  var root = document.getElementById("import-run");
  if (!root) { return; }
  var text = JSON.parse(document.getElementById("import-run-text").textContent);
  var page = window.qgovRun.fields(root);
  var field = page.field;
  var set = page.set;
  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_match, key) { return String(values[key]); });
  }
  function time(value) { return value ? new Date(value).toLocaleString() : null; }

  function render(run) {
    window.qgovRun.showStatus(field("status"), run.status, text.statuses);
    ["rows_processed", "created_count", "updated_count", "unchanged_count", "failed_count"].forEach(function (name) {
      set(name, run[name]);
    });
    set("rows_total", run.rows_total === null ? "?" : run.rows_total);
    set("started", time(run.started));
    set("finished", time(run.finished));
    var progress = field("progress");
    var bar = progress.firstElementChild;
    var done = window.qgovRun.isFinished(run.status);
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

  window.qgovRun.follow(root, render);
}());
