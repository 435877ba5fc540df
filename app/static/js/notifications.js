// Live notifications: one EventSource on the signed-in user's stream (the session cookie signs it in) keeps the
// navigation's unread badge and, on the notification centre, the list up to date without a reload. The browser
// reconnects by itself after the server ends a stream, sending Last-Event-ID, so nothing is missed.
(function () {
  "use strict";
  var link = document.getElementById("notification-link");
  var badge = document.getElementById("notification-badge");
  if (!link || !badge || !window.EventSource) {
    return;
  }
  var seen = {};
  var unread = parseInt(badge.textContent, 10) || 0;

  function showCount() {
    badge.textContent = unread ? String(unread) : "";
    badge.classList.toggle("d-none", !unread);
  }

  function addToList(note) {
    var list = document.getElementById("notification-list");
    if (!list || list.querySelector('[data-notification-id="' + note.id + '"]')) {
      return;
    }
    var empty = document.getElementById("notifications-empty");
    if (empty) {
      empty.remove();
    }
    var item = document.createElement("li");
    item.className = "list-group-item notification-unread";
    item.setAttribute("data-notification-id", String(note.id));
    var title = document.createElement("a");
    title.className = "fw-bold text-decoration-none";
    title.href = (note.data && note.data.url) || "#";
    title.textContent = note.title;
    var body = document.createElement("div");
    body.className = "small text-muted";
    body.textContent = note.body;
    item.appendChild(title);
    item.appendChild(body);
    list.insertBefore(item, list.firstChild);
  }

  var url = link.getAttribute("data-stream") + "?last_event_id=" + encodeURIComponent(link.getAttribute("data-last-id") || "0");
  var source = new EventSource(url);
  source.onmessage = function (event) {
    var note;
    try {
      note = JSON.parse(event.data);
    } catch (ignored) {
      return;
    }
    if (seen[note.id]) {
      return;
    }
    seen[note.id] = true;
    if (!note.read_at) {
      unread += 1;
      showCount();
    }
    addToList(note);
  };
})();
