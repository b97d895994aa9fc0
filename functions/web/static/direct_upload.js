// Evidence files straight from the browser to storage (cloud only; issue 14 §5). Plain script, no library.
//
// Behind a Lambda function URL a request is capped at 6 MB, so when the form carries
// data-direct-upload="<url>" (the page renders it, and loads this file, only when the app has an upload
// target) each file the unit picks is sent on its own, as soon as it is picked:
//   1. POST <url> with JSON {csrf, rule, name, size, type, pending} → {url, fields, key} (a presigned S3
//      POST whose signed policy fixes the key and bounds the size), or {error} to show as it is;
//   2. POST the fields, then the file, to that URL (multipart, the file part last, as S3 requires);
//   3. on success two hidden inputs go into the file's field: upload.<rule> = key and
//      upload-name.<key> = the file's name; the app takes the object when the form is saved.
// The file input is emptied, so the form's own post never carries the bytes. Without this script (or on
// `huizong serve`) the files go in the form's post as before.
//
// Working with the other scripts of the page (each optional; load this one last):
// - photos.js (photos made smaller in the browser): its `huizong.photos.ready()` is awaited and
//   `huizong.photos.filesFor(input)` sent instead of what was picked (its change listener sits on the
//   form, so it has seen the pick before this one, on the document, runs);
// - upload.js (a save by XHR with a progress bar): a `huizong.upload.before` hook waits for the uploads
//   still on their way and takes the file fields out of the save (their bytes went to storage already);
//   without upload.js a save waits the same way (an alert, the form stays);
// - window.huizongPrepareUpload = function (file, rule) → a File/Blob (or a Promise of one) to send
//   instead, for any other transformation; a failure sends the original.
(function () {
  "use strict";

  var form = document.getElementById("unit-form");
  if (!form || !form.getAttribute("data-direct-upload")) return;
  var endpoint = form.getAttribute("data-direct-upload");
  var texts = {};
  try { texts = JSON.parse(form.getAttribute("data-upload-texts") || "{}"); } catch (e) { texts = {}; }
  var csrfInput = form.querySelector('input[name="csrf"]');
  var csrf = csrfInput ? csrfInput.value : "";
  var inFlight = 0;
  // One file at a time per field: the app counts the field's unsaved uploads when it signs the next.
  var queues = {};

  function text(name, fallback) { return texts[name] || fallback; }

  function statusList(field) {
    var list = field.querySelector("ul.direct-uploads");
    if (!list) {
      list = document.createElement("ul");
      list.className = "direct-uploads kept-files";
      list.setAttribute("aria-live", "polite");
      var input = field.querySelector('input[type="file"]');
      field.insertBefore(list, input ? input.nextSibling : null);
    }
    return list;
  }

  // A line per file: its name (text, never markup: names come from the unit's device) and a status.
  function line(field, name) {
    var li = document.createElement("li");
    li.className = "direct-upload";
    var label = document.createElement("span");
    label.className = "file-name";
    label.textContent = name;
    var state = document.createElement("span");
    state.className = "upload-state help";
    li.appendChild(label);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(state);
    statusList(field).appendChild(li);
    return { li: li, say: function (message, failed) {
      state.textContent = message;
      state.className = failed ? "upload-state issue error" : "upload-state help";
    } };
  }

  function pendingIn(field) {
    return field.querySelectorAll('input[type="hidden"][name^="upload."]').length;
  }

  var hz = (window.huizong = window.huizong || {});
  var waiting = [];  // resolved when nothing is on its way any more

  function settled() {
    if (inFlight > 0) return new Promise(function (resolve) { waiting.push(resolve); });
    return Promise.resolve();
  }

  function finished() {
    inFlight -= 1;
    if (inFlight === 0) waiting.splice(0).forEach(function (resolve) { resolve(); });
  }

  // The files to send for a pick: photos.js's smaller ones when it is on the page, else those picked.
  function picks(input) {
    var picked = Array.prototype.slice.call(input.files || []);
    var photos = hz.photos;
    if (!photos || typeof photos.ready !== "function") return Promise.resolve(picked);
    return photos.ready().then(function () {
      var smaller = typeof photos.filesFor === "function" ? photos.filesFor(input) : null;
      return smaller && smaller.length === picked.length ? Array.prototype.slice.call(smaller) : picked;
    }, function () { return picked; });
  }

  function prepare(file, rule) {
    var hook = window.huizongPrepareUpload;
    if (typeof hook !== "function") return Promise.resolve(file);
    try {
      return Promise.resolve(hook(file, rule)).then(function (out) { return out || file; }, function () { return file; });
    } catch (e) {
      return Promise.resolve(file);
    }
  }

  function ask(rule, name, blob, pending) {
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ csrf: csrf, rule: rule, name: name, size: blob.size, type: blob.type || "", pending: pending })
    }).then(function (reply) {
      return reply.json().catch(function () { return {}; }).then(function (body) {
        if (!reply.ok || !body.url) throw new Error(body.error || text("network", "upload failed"));
        return body;
      });
    }, function () { throw new Error(text("network", "network error")); });
  }

  function send(signed, blob, name, show) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      Object.keys(signed.fields).forEach(function (k) { data.append(k, signed.fields[k]); });
      data.append("file", blob, name);  // S3 reads every field before the file: it must come last
      var xhr = new XMLHttpRequest();
      xhr.open("POST", signed.url);
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) {
          show(text("uploading", "{p}%").replace("{p}", String(Math.floor((ev.loaded / ev.total) * 100))));
        }
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve(); else reject(new Error(text("refused", "refused")));
      };
      xhr.onerror = function () { reject(new Error(text("network", "network error"))); };
      xhr.send(data);
    });
  }

  function keep(field, rule, key, name, row) {
    var keyInput = document.createElement("input");
    keyInput.type = "hidden";
    keyInput.name = "upload." + rule;
    keyInput.value = key;
    var nameInput = document.createElement("input");
    nameInput.type = "hidden";
    nameInput.name = "upload-name." + key;
    nameInput.value = name;
    row.li.appendChild(keyInput);
    row.li.appendChild(nameInput);
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove-upload";
    remove.textContent = text("remove", "Remove");
    // Forgotten by the page only: the object is never taken and the bucket's lifecycle rule removes it.
    remove.addEventListener("click", function () { row.li.remove(); });
    row.li.appendChild(document.createTextNode(" "));
    row.li.appendChild(remove);
  }

  function upload(field, rule, file) {
    var name = file.name || "file";
    var row = line(field, name);
    row.say(text("asking", "…"));
    return prepare(file, rule)
      .then(function (blob) {
        return ask(rule, name, blob, pendingIn(field)).then(function (signed) {
          return send(signed, blob, name, row.say).then(function () { return signed; });
        });
      })
      .then(function (signed) {
        keep(field, rule, signed.key, name, row);
        row.say(text("done", "OK"));
      }, function (err) {
        row.say(text("failed", "") + (err && err.message ? err.message : ""), true);
      })
      .then(finished);
  }

  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (!input || !input.matches || !input.matches('.file-field input[type="file"]')) return;
    if (!form.contains(input)) return;
    var field = input.closest(".file-field");
    var rule = field.getAttribute("data-rule");
    var count = (input.files || []).length;
    if (!count) return;
    inFlight += 1;  // the pick itself, until its files are known (photos.js may still be working)
    picks(input).then(function (files) {
      input.value = "";  // the bytes go to storage, never in the form's post (the function URL's cap)
      inFlight += files.length;  // counted when known, so a save waits for the queued ones too
      files.forEach(function (file) {
        queues[rule] = (queues[rule] || Promise.resolve()).then(function () { return upload(field, rule, file); });
      });
      finished();
    });
  });

  var names = Array.prototype.map.call(form.querySelectorAll('.file-field input[type="file"]'), function (el) {
    return el.name;
  });

  if (hz.upload && hz.upload.form === form && hz.upload.before) {
    // upload.js sends the save: wait for what is on its way, then send the keys, not the files.
    hz.upload.before.push(function (ctx) {
      return settled().then(function () {
        names.forEach(function (name) { ctx.data.delete(name); });
        // ctx.data was read from the form before an upload still on its way had added its key: the
        // keys are put in again as the form holds them now.
        var hidden = form.querySelectorAll('.direct-upload input[type="hidden"]');
        hidden.forEach(function (el) { ctx.data.delete(el.name); });
        hidden.forEach(function (el) { ctx.data.append(el.name, el.value); });
      });
    });
  } else {
    // A plain post while a file is still on its way would leave it out: the unit waits for it.
    form.addEventListener("submit", function (ev) {
      if (inFlight > 0) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        window.alert(text("busy", "Uploading…"));
      }
    }, true);
  }
})();
