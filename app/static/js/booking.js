// Listing page booking panel: a month grid that greys out taken nights and refuses them, and a live quote
// (GET .../quote) showing the nights, each fee and the total. The form itself posts without JavaScript.
(function () {
  "use strict";
  var form = document.getElementById("booking-form");
  if (!form) return;
  var checkIn = form.querySelector("[name=check_in]");
  var checkOut = form.querySelector("[name=check_out]");
  var guests = form.querySelector("[name=guests]");
  var picker = document.getElementById("booking-picker");
  var quoteBox = document.getElementById("booking-quote");
  var submit = document.getElementById("booking-submit");
  var grid = picker.querySelector(".picker-grid");
  var title = picker.querySelector(".picker-title");
  var hint = picker.querySelector(".picker-hint");
  var today = form.dataset.today;
  var minNights = Number(form.dataset.minNights), maxNights = Number(form.dataset.maxNights);
  var locale = document.documentElement.lang || "en";
  var ownListing = submit.disabled;
  var LABELS = { check_in: "Check-in", check_out: "Check-out", guests: "Guests" };
  var WEEKDAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
  var MONTHS_AHEAD = 36;

  var free = {};      // ISO date -> false when the night is booked or blocked (unknown nights count as free)
  var loaded = {};    // "YYYY-MM" -> true once asked for
  var shown;          // first day of the month on screen (a UTC Date)
  var choosingOut = false;

  // --- dates as ISO strings, computed in UTC so no time zone shifts a day -------------------------------------
  function parse(iso) {
    var p = iso.split("-").map(Number);
    return new Date(Date.UTC(p[0], p[1] - 1, p[2]));
  }
  function iso(day) { return day.toISOString().slice(0, 10); }
  function addDays(value, n) { var d = parse(value); d.setUTCDate(d.getUTCDate() + n); return iso(d); }
  function isDate(value) { return /^\d{4}-\d{2}-\d{2}$/.test(value) && !isNaN(parse(value)); }
  function monthStart(day) { return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1)); }
  function addMonths(day, n) { return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + n, 1)); }
  function nightsBetween(a, b) { return Math.round((parse(b) - parse(a)) / 86400000); }
  function longDate(value) {
    return parse(value).toLocaleDateString(locale, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  }

  // --- availability of the month on screen ----------------------------------------------------------------------
  function load(first) {
    var key = iso(first).slice(0, 7);
    if (loaded[key]) return;
    loaded[key] = true;
    var url = form.dataset.availabilityUrl + "?from=" + iso(first) + "&to=" + iso(addMonths(first, 1));
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (body) {
        body.days.forEach(function (day) { if (!day.available) free[day.date] = false; });
        render();
      })
      .catch(function () { loaded[key] = false; });
  }

  function rangeFree(from, to) {  // every night of [from, to) free?
    for (var night = from; night < to; night = addDays(night, 1)) {
      if (free[night] === false) return false;
    }
    return true;
  }

  // How a day looks and whether it can be picked now: {classes, disabled, label}.
  function dayState(value) {
    var cin = checkIn.value, cout = checkOut.value, classes = ["picker-day"], taken = free[value] === false;
    var state = { disabled: false, note: taken ? "taken" : "free" };
    if (value === today) classes.push("picker-today");
    if (value < today) {
      classes.push("picker-past");
      state.disabled = true;
      state.note = "past";
    } else if (choosingOut && isDate(cin) && value > cin) {
      var nights = nightsBetween(cin, value);
      if (!rangeFree(cin, value)) {
        classes.push(taken ? "picker-taken" : "picker-unreachable");
        state.disabled = true;
        state.note = taken ? "taken" : "a taken night is in between";
      } else if (nights < minNights || nights > maxNights) {
        if (taken) classes.push("picker-taken", "picker-checkout-only");
        state.disabled = true;
        state.note = nights < minNights ? "minimum " + minNights + " nights" : "maximum " + maxNights + " nights";
      } else if (taken) {
        classes.push("picker-taken", "picker-checkout-only");  // the night is taken, but leaving that morning is fine
        state.note = "check-out only";
      }
    } else if (taken) {
      classes.push("picker-taken");
      state.disabled = true;
    }
    if (value === cin) classes.push("picker-start");
    if (value === cout) classes.push("picker-end");
    if (isDate(cin) && isDate(cout) && value > cin && value < cout) classes.push("picker-in-range");
    state.classes = classes.join(" ");
    return state;
  }

  function render() {
    var first = shown, next = addMonths(first, 1);
    title.textContent = first.toLocaleDateString(locale, { month: "long", year: "numeric", timeZone: "UTC" });
    grid.textContent = "";
    WEEKDAYS.forEach(function (name) {
      var cell = document.createElement("div");
      cell.className = "picker-weekday";
      cell.textContent = name;
      grid.appendChild(cell);
    });
    for (var blank = (first.getUTCDay() + 6) % 7; blank > 0; blank--) grid.appendChild(document.createElement("div"));
    for (var day = first; day < next; day = parse(addDays(iso(day), 1))) {
      var value = iso(day), state = dayState(value);
      var button = document.createElement("button");
      button.type = "button";
      button.className = state.classes;
      button.textContent = String(day.getUTCDate());
      button.dataset.date = value;
      button.disabled = state.disabled;
      button.setAttribute("aria-label", longDate(value) + ": " + state.note);
      button.title = state.note;
      grid.appendChild(button);
    }
    var earliest = monthStart(parse(today));
    picker.querySelector("[data-step='-1']").disabled = first <= earliest;
    picker.querySelector("[data-step='1']").disabled = first >= addMonths(earliest, MONTHS_AHEAD);
    hint.textContent = choosingOut ? "Now choose your check-out date." : "Choose your check-in date.";
  }

  function show(first) {
    shown = first;
    load(first);
    render();
  }

  function pick(value) {
    if (choosingOut && isDate(checkIn.value) && value > checkIn.value) {
      checkOut.value = value;
      choosingOut = false;
    } else {
      checkIn.value = value;
      checkOut.value = "";
      choosingOut = true;
    }
    changed();
  }

  // --- the quote -------------------------------------------------------------------------------------------------
  function money(value) {
    var format = new Intl.NumberFormat(locale, { style: "currency", currency: value.currency });
    return format.format(value.amount / Math.pow(10, format.resolvedOptions().maximumFractionDigits));
  }

  function line(term, amount, extra) {
    var row = document.createElement("div");
    row.className = "d-flex justify-content-between" + (extra ? " " + extra : "");
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.className = extra ? "" : "fw-normal";
    dd.className = extra ? "mb-0" : "mb-1";
    dt.textContent = term;
    dd.textContent = amount;
    row.append(dt, dd);
    return row;
  }

  function showQuote(body) {
    var list = document.createElement("dl"), price = body.price;
    list.className = "price-lines mb-0";
    list.append(line(body.nights + (body.nights === 1 ? " night" : " nights"), money(price.nightly)));
    if (price.cleaning_fee.amount) list.append(line("Cleaning fee", money(price.cleaning_fee)));
    list.append(line("Service fee", money(price.service_fee)));
    list.append(line("Total", money(price.total), "border-top pt-2 mt-2 fw-bold price-total"));
    quoteBox.replaceChildren(list);
    submit.disabled = ownListing;
  }

  function showText(text, problem) {
    var element = document.createElement(problem ? "div" : "p");
    element.className = problem ? "alert alert-warning py-2 small mb-0 quote-problem" : "small text-muted mb-0 quote-hint";
    element.textContent = text;
    quoteBox.replaceChildren(element);
    submit.disabled = ownListing || !!problem;
  }

  function errorText(body) {
    var error = (body && body.error) || {}, parts = [];
    Object.keys(error.fields || {}).forEach(function (name) {
      error.fields[name].forEach(function (message) {
        message = message.replace("check_in", "check-in").replace("check_out", "check-out");
        parts.push((LABELS[name] ? LABELS[name] + ": " : "") + message);
      });
    });
    return parts.length ? parts.join(". ") + "." : error.message || "These dates cannot be booked.";
  }

  var timer = null, asked = 0;
  function requestQuote() {
    clearTimeout(timer);
    timer = setTimeout(fetchQuote, 150);
  }

  function fetchQuote() {
    var cin = checkIn.value, cout = checkOut.value;
    if (!isDate(cin) || !isDate(cout)) {
      showText(isDate(cin) ? "Choose your check-out date to see the total price."
                           : "Choose your dates to see the total price.", false);
      return;
    }
    if (!rangeFree(cin, cout)) {
      showText("Some of these nights are taken. Choose other dates.", true);
      return;
    }
    var mine = ++asked;
    var query = new URLSearchParams({ check_in: cin, check_out: cout, guests: guests.value || "1" });
    quoteBox.setAttribute("aria-busy", "true");
    fetch(form.dataset.quoteUrl + "?" + query, { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (mine !== asked) return;
        if (!answer.ok) showText(errorText(answer.body), true);
        else if (!answer.body.available) showText("Some of these nights are taken. Choose other dates.", true);
        else showQuote(answer.body);
      })
      .catch(function () { if (mine === asked) showText("The price could not be loaded; try again.", false); })
      .finally(function () { if (mine === asked) quoteBox.removeAttribute("aria-busy"); });
  }

  function changed() {
    // A refused booking's messages stop applying once the stay changes.
    var errors = document.getElementById("booking-errors");
    if (errors) errors.remove();
    form.querySelectorAll(".is-invalid").forEach(function (input) { input.classList.remove("is-invalid"); });
    render();
    requestQuote();
  }

  // --- wiring ----------------------------------------------------------------------------------------------------
  grid.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-date]");
    if (button && !button.disabled) pick(button.dataset.date);
  });
  picker.querySelectorAll("[data-step]").forEach(function (button) {
    button.addEventListener("click", function () { show(addMonths(shown, Number(button.dataset.step))); });
  });
  picker.querySelector(".picker-clear").addEventListener("click", function () {
    checkIn.value = checkOut.value = "";
    choosingOut = false;
    changed();
  });
  checkIn.addEventListener("change", function () {
    choosingOut = isDate(checkIn.value) && !(isDate(checkOut.value) && checkOut.value > checkIn.value);
    if (isDate(checkIn.value)) show(monthStart(parse(checkIn.value)));
    changed();
  });
  [checkOut, guests].forEach(function (input) {
    input.addEventListener("change", function () {
      if (input === checkOut) choosingOut = false;
      changed();
    });
  });
  guests.addEventListener("input", requestQuote);

  picker.hidden = false;
  var start = isDate(checkIn.value) && checkIn.value >= today ? checkIn.value : today;
  choosingOut = isDate(checkIn.value) && !isDate(checkOut.value);
  show(monthStart(parse(start)));
  if (isDate(checkIn.value) && isDate(checkOut.value)) load(monthStart(parse(checkOut.value)));
})();
