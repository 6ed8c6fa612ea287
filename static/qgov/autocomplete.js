/* Record pickers for large relations (qgov/autocomplete.py): every <input data-autocomplete="URL">
   — a text box of record ids — becomes a Tom Select box that shows the chosen records by name and
   looks others up as you type, from URL?q=… (records the user may view in the active agency).
   The box submits the ids as the text box did ("12" or "12,40"). Without JavaScript the text box
   of ids still works. */
(function () {
  "use strict";
  function enhance(input) {
    if (input.tomselect || typeof window.TomSelect !== "function") return;
    var url = input.dataset.autocomplete;
    var multiple = input.hasAttribute("data-autocomplete-multiple");
    var chosen = [];
    try { chosen = JSON.parse(input.dataset.autocompleteChosen || "[]"); } catch (e) { chosen = []; }
    input.value = chosen.map(function (record) { return record.id; }).join(",");
    new window.TomSelect(input, {
      valueField: "id",
      labelField: "text",
      searchField: [],  // the server matched the term; no second filtering here
      options: chosen,
      items: chosen.map(function (record) { return String(record.id); }),
      maxItems: multiple ? null : 1,
      delimiter: ",",
      create: false,
      hideSelected: true,
      closeAfterSelect: !multiple,
      preload: "focus",
      loadThrottle: 250,
      placeholder: input.dataset.placeholder || "",
      plugins: multiple ? { remove_button: { title: input.dataset.removeLabel || "Remove" } } : {},
      score: function () { return function () { return 1; }; },
      load: function (query, callback) {
        var self = this;
        fetch(url + "?q=" + encodeURIComponent(query), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            self.clearOptions();  // keeps the chosen ones
            callback(data.results);
          })
          .catch(function () { callback(); });
      },
    });
  }
  function enhanceAll() {
    document.querySelectorAll("input[data-autocomplete]").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
})();
