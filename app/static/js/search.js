// Search page: a change of [data-autosubmit] (the currency menu) sends the search form again,
// and check-out cannot be picked before check-in.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form) return;
  document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    });
  });
  var checkIn = document.getElementById("check_in");
  var checkOut = document.getElementById("check_out");
  if (checkIn && checkOut) {
    var today = new Date().toISOString().slice(0, 10);
    checkIn.min = today;
    var sync = function () {
      checkOut.min = checkIn.value || today;
    };
    checkIn.addEventListener("change", sync);
    sync();
  }
})();
