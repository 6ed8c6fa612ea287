// Follows a report run on its page (qgov/run-follow.js polls it), updating status, progress and
// stage; then shows the error (and the Retry button) or the files with their size, pages and SHA-256.
(function () {
  "use strict";
  var root = document.getElementById("report-run");
  if (!root) { return; }
  var text = JSON.parse(document.getElementById("report-run-text").textContent);
  var page = window.qgovRun.fields(root);
  var field = page.field;
  var set = page.set;
  // ISO 8601 as the server writes times (the API's value keeps the agency's UTC offset).
  function time(value) {
    if (!value) { return null; }
    var offset = value.match(/([+-]\d\d:\d\d|Z)$/);
    return value.slice(0, 16).replace("T", " ") + (offset ? " " + offset[1].replace("Z", "UTC") : "");
  }
  function size(bytes) {
    var units = ["bytes", "KB", "MB", "GB"];
    var index = 0;
    while (bytes >= 1024 && index < units.length - 1) { bytes /= 1024; index += 1; }
    return (index ? bytes.toFixed(1) : String(bytes)) + "\u00a0" + units[index];
  }
  function cell(row, className) {
    var node = document.createElement("td");
    if (className) { node.className = className; }
    row.appendChild(node);
    return node;
  }

  function renderFiles(files) {
    var body = field("files").querySelector("tbody");
    body.replaceChildren();
    files.forEach(function (file) {
      var row = document.createElement("tr");
      var name = cell(row);
      var link = document.createElement("a");
      link.href = root.dataset.downloadUrl.replace("FORMAT", file.format);
      link.setAttribute("download", "");
      link.dataset.testid = "download-" + file.format;
      link.textContent = text.formats[file.format] || file.format.toUpperCase();
      var small = document.createElement("span");
      small.className = "small text-muted";
      small.textContent = file.filename;
      name.append(link, document.createElement("br"), small);
      cell(row, "text-end text-nowrap").textContent = size(file.size);
      cell(row, "text-end").textContent = file.pages === null ? "" : String(file.pages);
      var hash = document.createElement("code");
      hash.className = "small text-break user-select-all";
      hash.title = "SHA-256 " + file.sha256;
      hash.textContent = file.sha256;
      cell(row).appendChild(hash);
      body.appendChild(row);
    });
  }

  function render(run) {
    var done = window.qgovRun.isFinished(run.status);
    window.qgovRun.showStatus(field("status"), run.status, text.statuses);
    set("stage", run.status === "succeeded" ? text.succeeded : run.status === "failed" ? text.failed
      : run.stage || text.waiting);
    set("started", time(run.started));
    set("finished", time(run.finished));
    set("attempts", run.attempts);
    var share = run.status === "succeeded" ? 100 : run.progress;
    var progress = field("progress");
    var bar = progress.firstElementChild;
    bar.style.width = share + "%";
    bar.textContent = share + " %";
    progress.setAttribute("aria-valuenow", share);
    field("error-box").hidden = run.status !== "failed";
    if (!done) { return; }
    bar.classList.remove("progress-bar-striped", "progress-bar-animated");
    bar.classList.toggle("bg-danger", run.status === "failed");
    set("error", run.error);
    if (run.status === "succeeded") { renderFiles(run.files); }
  }

  window.qgovRun.follow(root, render);
}());
