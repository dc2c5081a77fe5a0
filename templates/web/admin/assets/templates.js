// The template editor's live preview. A moment after typing stops (or a choice changes),
// the editor's fields are posted (with the session's CSRF token) to the template's
// preview address and the answer shown in the sandboxed frame, with the subject and the
// text version for a message. Nothing is saved. Without this script the editor's own
// Preview button renders the same preview on the server.
(function () {
  "use strict";
  var form = document.getElementById("template-editor");
  var meta = document.querySelector('meta[name="csrf"]');
  if (!form || !meta || !window.fetch || !window.URLSearchParams || !window.FormData) {
    return;
  }
  var token = meta.getAttribute("content");
  var kind = form.getAttribute("data-kind");
  var frame = document.getElementById("preview-html");
  var subject = document.getElementById("preview-subject");
  var text = document.getElementById("preview-text");
  var status = document.getElementById("preview-status");
  var language = document.getElementById("language");
  var timer = null;
  var round = 0;

  function say(message) {
    if (status.textContent !== message) {
      status.textContent = message;
    }
  }

  // Page words are a fragment: shown on a plain page in the chosen language.
  function documentOf(html) {
    if (kind !== "page") {
      return html;
    }
    var lang = language ? language.value : "en";
    return '<!doctype html><html lang="' + lang + '"><meta charset="utf-8">' +
      '<body style="font:16px/1.6 system-ui,sans-serif;margin:16px;max-width:36rem">' + html + "</body></html>";
  }

  function preview() {
    var mine = ++round;
    var fields = new URLSearchParams(new FormData(form));
    fields.delete("action");
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRF-Token": token,
        "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        Accept: "application/json"
      },
      body: fields.toString()
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (answer) {
        if (mine !== round) {
          return;
        }
        if (answer.ok) {
          frame.srcdoc = documentOf(answer.body.html);
          if (subject) {
            subject.textContent = answer.body.subject || "";
          }
          if (text) {
            text.textContent = answer.body.text || "";
          }
          say("Updated as you type: as the chosen person would see it (nothing is saved or tracked).");
        } else {
          say("Not previewed: " + (answer.body.error || "the preview could not be made just now."));
        }
      })
      .catch(function () {
        if (mine === round) {
          say("The preview could not be reached just now; the Preview button still works.");
        }
      });
  }

  function later(event) {
    clearTimeout(timer);
    timer = setTimeout(preview, event && event.type === "change" ? 50 : 600);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  preview();
})();
