/* Searchable multi-selects: every <select data-multiselect> (qgov.forms.style_form marks each
   <select multiple> of edit forms and filter sidebars) becomes a Tom Select box. Type to search,
   ArrowDown/ArrowUp and Enter to pick, Backspace or × to remove; a click adds, it never replaces
   the other choices. Without JavaScript the plain select still works. */
(function () {
  "use strict";
  function enhance(select) {
    if (select.tomselect || typeof window.TomSelect !== "function") return;
    new window.TomSelect(select, {
      plugins: { remove_button: { title: select.dataset.removeLabel || "Remove" } },
      create: false,
      hideSelected: true,
      closeAfterSelect: false,
      maxOptions: null,
      placeholder: select.dataset.placeholder || "",
      onItemAdd: function () {  // the next search starts afresh
        this.setTextboxValue("");
        this.refreshOptions(false);
      },
    });
  }
  function enhanceAll() {
    document.querySelectorAll("select[multiple][data-multiselect]").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
})();
