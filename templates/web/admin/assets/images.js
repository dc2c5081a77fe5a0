// The composer's images. "Add image", or an image dropped or pasted onto the body, is
// posted (with the session's CSRF token) to /admin/media, and what comes back goes into the
// body where the cursor is: ![](url) in Markdown, <img src="url" alt=""> in an HTML body.
// The preview follows, as it does for typing. Without this script the Images page takes
// uploads and shows the Markdown to copy.
(function () {
  "use strict";
  var tools = document.getElementById("image-tools");
  var body = document.getElementById("body");
  var meta = document.querySelector('meta[name="csrf"]');
  if (!tools || !body || !meta || !window.fetch || !window.FormData) {
    return;
  }
  var token = meta.getAttribute("content");
  var button = document.getElementById("add-image");
  var input = document.getElementById("image-file");
  var status = document.getElementById("image-status");
  var format = document.getElementById("format");
  var maxBytes = parseInt(tools.getAttribute("data-max-bytes"), 10) || 0;
  var tooLarge = tools.getAttribute("data-too-large");
  var queue = Promise.resolve();
  tools.hidden = false;

  function say(message) {
    status.textContent = message;
  }

  function snippet(url) {
    if (format && format.value === "html") {
      return '<img src="' + url.replace(/"/g, "&quot;") + '" alt="">';
    }
    return "![](" + url + ")";
  }

  // Puts `text` in place of the body's selection and tells the preview.
  function insert(text) {
    var start = body.selectionStart;
    var end = body.selectionEnd;
    if (typeof start !== "number") {
      start = end = body.value.length;
    }
    body.value = body.value.slice(0, start) + text + body.value.slice(end);
    var after = start + text.length;
    body.setSelectionRange(after, after);
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function answerOf(response) {
    return response.json().then(function (answer) {
      return { ok: response.ok, body: answer };
    });
  }

  function upload(file) {
    if (maxBytes && file.size > maxBytes) {
      say(tooLarge);
      return Promise.resolve();
    }
    var name = file.name || "the pasted image";
    say("Adding " + name + "…");
    var data = new FormData();
    data.append("file", file, file.name || "pasted-image");
    return fetch(tools.getAttribute("data-upload-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": token, Accept: "application/json" },
      body: data
    })
      .then(answerOf)
      .then(function (answer) {
        if (answer.ok && answer.body.url) {
          insert(snippet(answer.body.url));
          say("Added " + name + " to the body.");
        } else {
          say(answer.body.error || "The image could not be added.");
        }
      })
      .catch(function () {
        say("The image could not be added just now; the Images page takes uploads too.");
      });
  }

  // One after another, so several images go in in the order given.
  function uploadAll(files) {
    Array.prototype.forEach.call(files, function (file) {
      queue = queue.then(function () {
        return upload(file);
      });
    });
  }

  function filesOf(transfer) {
    if (!transfer) {
      return [];
    }
    if (transfer.files && transfer.files.length) {
      return transfer.files;
    }
    var found = [];
    Array.prototype.forEach.call(transfer.items || [], function (item) {
      if (item.kind === "file") {
        var file = item.getAsFile();
        if (file) {
          found.push(file);
        }
      }
    });
    return found;
  }

  function carriesFiles(transfer) {
    return !!transfer && Array.prototype.indexOf.call(transfer.types || [], "Files") !== -1;
  }

  button.addEventListener("click", function () {
    input.click();
  });
  input.addEventListener("change", function () {
    uploadAll(input.files);
    input.value = "";
  });
  body.addEventListener("dragover", function (event) {
    if (carriesFiles(event.dataTransfer)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  });
  body.addEventListener("drop", function (event) {
    var files = filesOf(event.dataTransfer);
    if (files.length) {
      event.preventDefault();
      body.focus();
      uploadAll(files);
    }
  });
  body.addEventListener("paste", function (event) {
    var files = filesOf(event.clipboardData);
    if (files.length) {
      event.preventDefault();
      uploadAll(files);
    }
  });
})();
