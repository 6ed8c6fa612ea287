// Narrows a level select (data-levels: {scheme id: [levels]}) to the levels of the scheme chosen in
// the same form (data-scheme-field: that select's name). The server checks the level either way.
(function () {
  "use strict";

  function narrow(levelSelect, schemeSelect, levelsByScheme) {
    var chosen = levelSelect.value;
    var levels = levelsByScheme[schemeSelect.value] || [];
    levelSelect.replaceChildren(new Option("—", ""));
    levels.forEach(function (level) {
      levelSelect.add(new Option(level, level, false, level === chosen));
    });
    levelSelect.disabled = levels.length === 0;
  }

  document.querySelectorAll("select[data-levels][data-scheme-field]").forEach(function (levelSelect) {
    var schemeSelect = levelSelect.form && levelSelect.form.elements[levelSelect.dataset.schemeField];
    if (!schemeSelect) {
      return;
    }
    var levelsByScheme = JSON.parse(levelSelect.dataset.levels);
    narrow(levelSelect, schemeSelect, levelsByScheme);
    schemeSelect.addEventListener("change", function () {
      narrow(levelSelect, schemeSelect, levelsByScheme);
    });
  });
})();
