// Calendar page: click a first night to fill "From", then a last night to fill "Until (not included)".
(function () {
  "use strict";
  var grid = document.getElementById("calendar-grid");
  var start = document.getElementById("start");
  var end = document.getElementById("end");
  if (!grid || !start || !end) return;
  var first = null;

  function nextDay(iso) {
    var parts = iso.split("-").map(Number);
    var day = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2] + 1));
    return day.toISOString().slice(0, 10);
  }

  function mark() {
    var from = start.value, until = end.value;
    grid.querySelectorAll("[data-date]").forEach(function (cell) {
      var date = cell.getAttribute("data-date");
      var selected = date === from || !!(until && nextDay(date) === until);
      cell.classList.toggle("cal-selected", selected);
      cell.classList.toggle("cal-in-range", !selected && !!(from && until && date > from && date < until));
    });
  }

  function pick(cell) {
    var date = cell.getAttribute("data-date");
    if (first === null) {
      first = date;
      start.value = date;
      end.value = nextDay(date);
    } else {
      var from = date < first ? date : first, last = date < first ? first : date;
      start.value = from;
      end.value = nextDay(last);
      first = null;
    }
    mark();
  }

  grid.addEventListener("click", function (event) {
    var cell = event.target.closest("[data-date]");
    if (cell) pick(cell);
  });
  grid.addEventListener("keydown", function (event) {
    var cell = event.target.closest("[data-date]");
    if (cell && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); pick(cell); }
  });

  // The price box only matters for "Set a nightly price".
  var priceGroup = document.getElementById("price-group");
  var actions = document.querySelectorAll("input[name=action]");
  function togglePrice() {
    var checked = document.querySelector("input[name=action]:checked");
    if (priceGroup) priceGroup.hidden = !(checked && checked.value === "price");
  }
  actions.forEach(function (radio) { radio.addEventListener("change", togglePrice); });
  start.addEventListener("change", mark);
  end.addEventListener("change", mark);
  togglePrice();
  mark();
})();
