// Registry import preview (issue #12): a choice changed above the confirmation is not what the preview
// showed, so the import button waits until "Apply and check again"; the confirmation also sends the
// columns' current choices (sel-N) so the server refuses one that was not applied.
(function () {
  "use strict";
  function staleConfirm() {
    var button = document.getElementById("confirm-button");
    var note = document.getElementById("confirm-stale");
    if (button) { button.disabled = true; }
    if (note) { note.hidden = false; }
  }
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.tagName === "SELECT" && el.form && el.form.id === "check-form") { staleConfirm(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.id !== "confirm-form") { return; }
    var check = document.getElementById("check-form");
    if (!check) { return; }
    Array.prototype.forEach.call(form.querySelectorAll("input[data-sel]"), function (el) { el.remove(); });
    Array.prototype.forEach.call(check.querySelectorAll("select[name^='col-']"), function (select) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "sel-" + select.name.slice(4);
      input.value = select.value;
      input.setAttribute("data-sel", "1");
      form.appendChild(input);
    });
  });
})();
