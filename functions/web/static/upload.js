// Saving a form that carries files with a progress bar (issue 14 §5). Plain script, no library.
//
// Without this script the form posts as any HTML form does (the page works without JavaScript). With
// it, a form that can carry files (enctype multipart/form-data) is sent by XMLHttpRequest instead, so
// the page can show 上传中 37% while a phone uploads photos, keep the buttons disabled meanwhile, and,
// when the network fails, say so and give the buttons back with everything typed and picked still there.
// When the answer comes, the server's page (the form with its check results) replaces this one exactly
// as a normal post would show it. A refusal that saved nothing (files over the size limit, too many
// saves a minute, an expired visit: the app's message page, status 4xx/5xx) is shown in the status line
// instead, so the form stays as it was; a normal post would have left the unit a Back button for that.
//
// What is sent is what the form holds (new FormData(form)) plus the pressed button's name and value,
// with each photo field's files replaced by the smaller ones photos.js made (huizong.photos.filesFor).
//
// Hook for other scripts: push a function onto `huizong.upload.before`. Each is called, in order, with
// {form, data, progress} before the request goes: `data` is the FormData about to be posted (it may take
// files out and put fields in, e.g. keys of files already uploaded elsewhere), `progress(fraction)`
// moves the bar. It returns nothing or a Promise; a rejected Promise stops the save like a network
// failure (its Error's message, when set, is shown instead of the usual one).
(function () {
  "use strict";

  var form = document.getElementById("unit-form");
  var box = document.getElementById("upload-status");
  if (!form || !box || !window.FormData || !window.XMLHttpRequest || !window.Promise) return;
  if ((form.getAttribute("enctype") || "").toLowerCase() !== "multipart/form-data") return;

  var hz = (window.huizong = window.huizong || {});
  // Hooks belong to the form they were registered for: a page written in by a save starts a new list
  // (the window outlives the document). A hooking script is loaded after this one (form.html).
  if (!hz.upload || hz.upload.form !== form) hz.upload = { form: form, before: [] };

  var bar = box.querySelector("progress");
  var label = box.querySelector(".upload-text");
  var buttons = form.querySelectorAll('button[type="submit"]');
  var pressed = null;
  var sending = false;

  function text(name, percent) {
    return (box.getAttribute("data-" + name) || "").replace("{p}", String(percent));
  }

  function show(name, fraction) {
    box.hidden = false;
    box.classList.toggle("failed", name === "failed");
    if (fraction === null) bar.removeAttribute("value");
    else bar.value = Math.round(fraction * 100);
    label.textContent = text(name, fraction === null ? 0 : Math.round(fraction * 100));
  }

  function busy(on) {
    sending = on;
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function failed(message) {
    busy(false);
    show("failed", 0);
    if (message) label.textContent = message;
  }

  // The server's answer replaces the page, as the browser would show a normal post's answer: its
  // scripts run again for the new form (document.open drops this page's listeners).
  function replacePage(html) {
    document.open();
    document.write(html);
    document.close();
    window.scrollTo(0, 0);
  }

  // The title and text of the app's message page (templates/message.html), or null for any other page.
  // Parsed, never inserted as HTML: only text reaches this page.
  function refusalText(html) {
    if (!window.DOMParser) return null;
    var doc = new DOMParser().parseFromString(html, "text/html");
    var title = doc.querySelector(".message h1"), body = doc.querySelector(".message p");
    if (!title || !body) return null;
    var colon = /^zh/i.test(document.documentElement.lang || "") ? "：" : ": ";
    return title.textContent + colon + body.textContent;
  }

  function post(data) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      // not form.action: the buttons are named "action", and a named control shadows the property
      xhr.open("POST", form.getAttribute("action") || location.pathname);
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable && ev.total > 0) show("uploading", Math.min(1, ev.loaded / ev.total));
      };
      xhr.upload.onload = function () { show("checking", null); };
      xhr.onload = function () {
        var type = xhr.getResponseHeader("Content-Type") || "";
        // Every answer of the app is a page (the form, or one that says what went wrong): show it.
        if (xhr.status > 0 && /text\/html/i.test(type)) resolve({ status: xhr.status, html: xhr.responseText });
        else reject(new Error(""));
      };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () { reject(new Error("")); };
      xhr.send(data);
    });
  }

  function send(submitter) {
    busy(true);
    show("preparing", null);
    var photos = hz.photos;
    var ready = photos && photos.ready ? photos.ready() : Promise.resolve();
    ready
      .then(function () {
        var data = new FormData(form);
        if (submitter && submitter.name) data.append(submitter.name, submitter.value);
        var inputs = form.querySelectorAll('input[type="file"]');
        for (var i = 0; i < inputs.length; i++) {
          var files = photos && photos.filesFor ? photos.filesFor(inputs[i]) : null;
          if (!files) continue;
          data["delete"](inputs[i].name);
          for (var j = 0; j < files.length; j++) data.append(inputs[i].name, files[j], files[j].name);
        }
        var ctx = { form: form, data: data, progress: function (f) { show("uploading", f); } };
        return hz.upload.before.reduce(function (chain, hook) {
          return chain.then(function () { return hook(ctx); });
        }, Promise.resolve()).then(function () { return data; });
      })
      .then(function (data) {
        show("uploading", 0);
        return post(data);
      })
      .then(function (answer) {
        var refusal = answer.status >= 400 ? refusalText(answer.html) : null;
        if (refusal) failed(refusal);
        else replacePage(answer.html);
      }, function (err) {
        failed(err && err.message ? err.message : "");
      });
  }

  // ev.submitter is missing in older WebViews: the button clicked last stands in for it.
  form.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest('button[type="submit"]') : null;
    if (b) pressed = b;
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (sending) return;
    send(ev.submitter || pressed);
  });
})();
