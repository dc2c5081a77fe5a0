// The compose form's live preview and audience size. A moment after typing stops, the
// draft is posted (with the session's CSRF token) to /admin/campaigns/preview and the
// answer shown: the HTML in the sandboxed frame, the text version below it. Changing the
// audience asks /admin/campaigns/audience how many it reaches. Without this script the
// form's own Preview button renders the same preview on the server.
(function () {
  "use strict";
  var form = document.getElementById("compose");
  var meta = document.querySelector('meta[name="csrf"]');
  if (!form || !meta || !window.fetch || !window.URLSearchParams || !window.FormData) {
    return;
  }
  var token = meta.getAttribute("content");
  var frame = document.getElementById("preview-html");
  var subject = document.getElementById("preview-subject");
  var text = document.getElementById("preview-text");
  var status = document.getElementById("preview-status");
  var size = document.getElementById("audience-size");
  var notPreviewed = { test_to: true, send_when: true, send_at: true, send_offset: true, csrf: true };
  var audienceFields = { audience: true, tier: true };
  var previewTimer = null;
  var audienceTimer = null;
  var previewRound = 0;
  var audienceRound = 0;

  function fields() {
    return new URLSearchParams(new FormData(form));
  }

  function say(message) {
    if (status.textContent !== message) {
      status.textContent = message;
    }
  }

  function answerOf(response) {
    return response.json().then(function (body) {
      return { ok: response.ok, body: body };
    });
  }

  function problems(errors) {
    var found = [];
    Object.keys(errors || {}).forEach(function (field) {
      if (errors[field]) {
        found.push(errors[field]);
      }
    });
    return found.join(" ");
  }

  function preview() {
    var round = ++previewRound;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRF-Token": token,
        "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        Accept: "application/json"
      },
      body: fields().toString()
    })
      .then(answerOf)
      .then(function (answer) {
        if (round !== previewRound) {
          return;
        }
        if (answer.ok) {
          frame.srcdoc = answer.body.html;
          subject.textContent = answer.body.subject;
          text.textContent = answer.body.text;
          say("Updated as you type: as the chosen subscriber would get it (links are not tracked in previews).");
        } else if (answer.body.errors) {
          say("Not previewed yet: " + problems(answer.body.errors));
        } else {
          say(answer.body.error || "The preview could not be made just now.");
        }
      })
      .catch(function () {
        if (round === previewRound) {
          say("The preview could not be reached just now; the Preview button still works.");
        }
      });
  }

  function audience() {
    var round = ++audienceRound;
    var query = new URLSearchParams();
    fields().forEach(function (value, key) {
      if (audienceFields[key]) {
        query.append(key, value);
      }
    });
    fetch(form.getAttribute("data-audience-url") + "?" + query.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(answerOf)
      .then(function (answer) {
        if (round !== audienceRound) {
          return;
        }
        size.textContent = answer.ok
          ? "It would reach " + answer.body.sentence + " right now."
          : answer.body.error || "The audience could not be counted just now.";
      })
      .catch(function () {
        if (round === audienceRound) {
          size.textContent = "The audience could not be counted just now; saving the draft shows it.";
        }
      });
  }

  function later(which, delay) {
    if (which === "audience") {
      clearTimeout(audienceTimer);
      audienceTimer = setTimeout(audience, delay);
    } else {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(preview, delay);
    }
  }

  function changed(event) {
    var name = event.target && event.target.name;
    if (!name || notPreviewed[name]) {
      return;
    }
    if (audienceFields[name]) {
      // Ticking a tier means "only these tiers".
      if (name === "tier" && event.target.checked) {
        var only = form.querySelector('input[name="audience"][value="tiers"]');
        if (only) {
          only.checked = true;
        }
      }
      later("audience", 150);
      return;
    }
    later("preview", event.type === "change" ? 50 : 600);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // A draft already written is shown at once; an empty form waits for the first words.
  var body = document.getElementById("body");
  if (body && body.value.trim() !== "") {
    preview();
  }
})();
