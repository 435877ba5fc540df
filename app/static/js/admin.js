// The dashboard's clicks that Flask-Admin wires with inline handlers, which the Content-Security-Policy refuses:
// the "With selected" actions (data-model-action, see templates/admin/actions.html), the "Add Filter" items
// (their onclick="return false"), and the row buttons that ask first (data-confirm on the button, templates/admin/_row_actions.html).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var action = event.target.closest("[data-model-action]");
    if (action) {
      event.preventDefault();
      window.modelActions.execute(action.getAttribute("data-model-action"));
      return;
    }
    var link = event.target.closest('a[href^="javascript:"]');
    if (link) {
      event.preventDefault();  // filter items and toggles: their own handlers (jQuery, Bootstrap) do the work
    }
  });
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.hasAttribute("data-confirm") && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
