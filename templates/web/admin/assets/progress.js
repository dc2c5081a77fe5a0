// Keeps a sending campaign's progress bar current: every 2 seconds it asks
// /admin/campaigns/{id}/progress for the numbers, and reloads the page once the campaign is
// no longer sending, so the whole report shows. Without it the page shows the numbers
// from when it was loaded, with a link to refresh.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !window.fetch || box.getAttribute("data-status") !== "sending") {
    return;
  }
  var url = box.getAttribute("data-progress-url");
  var bar = document.getElementById("progress-bar");
  var freshness = document.getElementById("progress-freshness");

  function show(name, value) {
    var field = box.querySelector('[data-field="' + name + '"]');
    if (field) {
      field.textContent = String(value);
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        if (progress.status !== "sending") {
          window.location.reload();
          return;
        }
        bar.max = progress.bar_max;
        bar.value = progress.done;
        bar.textContent = progress.percent + "%";
        ["percent", "sent", "failed", "remaining", "skipped", "total"].forEach(function (name) {
          show(name, progress[name]);
        });
        if (freshness) {
          freshness.textContent = "Updated every 2 seconds while it sends.";
        }
        setTimeout(poll, 2000);
      })
      .catch(function () {
        // The service may be restarting: try again, less often.
        setTimeout(poll, 10000);
      });
  }

  setTimeout(poll, 2000);
})();
