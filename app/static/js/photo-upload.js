// Photo manager: upload several files at once, one XMLHttpRequest each, with a progress bar per file.
// Without JavaScript the same form posts the files in one request and the server answers with a redirect.
(function () {
  "use strict";
  var form = document.getElementById("photo-upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var input = document.getElementById("photo-input");
  var submit = document.getElementById("photo-submit");
  var list = document.getElementById("upload-list");
  var zone = document.getElementById("upload-zone");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 10 * 1024 * 1024;
  var csrfToken = form.querySelector("input[name=csrf_token]").value;
  var TYPES = ["image/jpeg", "image/png", "image/webp"];
  var busy = false;

  submit.hidden = true; // files start uploading as soon as they are chosen

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function addRow(file) {
    var row = el("li", "upload-item mb-2");
    var head = el("div", "d-flex justify-content-between small");
    head.appendChild(el("span", "text-truncate me-2", file.name));
    var status = el("span", "text-muted text-nowrap", "Waiting…");
    head.appendChild(status);
    var progress = el("div", "progress");
    progress.setAttribute("role", "progressbar");
    progress.setAttribute("aria-label", "Upload of " + file.name);
    progress.setAttribute("aria-valuemin", "0");
    progress.setAttribute("aria-valuemax", "100");
    var bar = el("div", "progress-bar bg-brand");
    bar.style.width = "0%";
    progress.appendChild(bar);
    row.appendChild(head);
    row.appendChild(progress);
    list.appendChild(row);
    return {
      progress: function (percent) {
        bar.style.width = percent + "%";
        progress.setAttribute("aria-valuenow", String(percent));
        status.textContent = percent < 100 ? percent + "%" : "Processing…";
      },
      done: function () {
        bar.style.width = "100%";
        bar.className = "progress-bar bg-success";
        status.textContent = "Uploaded";
        status.className = "text-success text-nowrap";
      },
      fail: function (message) {
        bar.style.width = "100%";
        bar.className = "progress-bar bg-danger";
        status.textContent = "Failed";
        status.className = "text-danger text-nowrap";
        row.appendChild(el("div", "small text-danger upload-error", message));
      }
    };
  }

  function errorMessage(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      var error = body && body.error;
      if (error) {
        var fields = error.fields || {};
        for (var name in fields) {
          if (fields[name] && fields[name].length) return fields[name][0];
        }
        return error.message;
      }
    } catch (ignored) { /* not JSON: an HTML error page */ }
    if (xhr.status === 413) return "The file is larger than the server accepts (10 MB).";
    if (xhr.status === 400) return "The upload was refused; reload the page and try again.";
    if (xhr.status === 0) return "The connection was lost.";
    return "The upload failed (" + xhr.status + ").";
  }

  function upload(file, row) {
    return new Promise(function (resolve) {
      if (TYPES.indexOf(file.type) === -1 && file.type) {
        row.fail("Not a JPEG, PNG or WebP image.");
        return resolve(false);
      }
      if (file.size > maxBytes) {
        row.fail("The file is larger than " + Math.round(maxBytes / 1048576) + " MB.");
        return resolve(false);
      }
      var data = new FormData();
      data.append("image", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRFToken", csrfToken);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) row.progress(Math.round((event.loaded / event.total) * 100));
      };
      xhr.onload = function () {
        if (xhr.status === 201) { row.done(); resolve(true); } else { row.fail(errorMessage(xhr)); resolve(false); }
      };
      xhr.onerror = function () { row.fail(errorMessage(xhr)); resolve(false); };
      xhr.send(data);
    });
  }

  function uploadAll(files) {
    if (busy || !files.length) return;
    busy = true;
    input.disabled = true;
    list.innerHTML = "";
    var rows = files.map(addRow);
    var results = [];
    // One file after another, so the photos keep the order they were chosen in.
    files.reduce(function (chain, file, index) {
      return chain.then(function () {
        rows[index].progress(0);
        return upload(file, rows[index]).then(function (ok) { results.push(ok); });
      });
    }, Promise.resolve()).then(function () {
      busy = false;
      input.disabled = false;
      input.value = "";
      var failed = results.filter(function (ok) { return !ok; }).length;
      if (failed) {
        list.appendChild(el("li", "mt-2 small", (results.length - failed) + " of " + results.length + " uploaded."));
      }
      if (failed < results.length) refreshGallery();
    });
  }

  // The page as the server now renders it supplies the gallery and the count: the new photos show at once, in
  // their order, with their controls, while the upload list above keeps saying what happened to each file.
  function refreshGallery() {
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["photo-gallery", "photo-count"].forEach(function (id) {
          var now = document.getElementById(id), next = fresh.getElementById(id);
          if (now && next) now.replaceWith(document.importNode(next, true));
        });
      })
      .catch(function () { window.location.reload(); });
  }

  input.addEventListener("change", function () { uploadAll(Array.prototype.slice.call(input.files)); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    uploadAll(Array.prototype.slice.call(input.files));
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragover"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.remove("dragover"); });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files) uploadAll(Array.prototype.slice.call(event.dataTransfer.files));
  });
})();
