// Copy buttons: <button data-copy="ID"> copies the text of the textarea with that id and
// says so in the element with data-copied-for="ID". Without script, the text can be
// selected and copied by hand.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) { return; }
  var id = button.getAttribute("data-copy");
  var source = document.getElementById(id);
  var status = document.querySelector('[data-copied-for="' + id + '"]');
  if (!source) { return; }
  var say = function (text) { if (status) { status.textContent = text; } };
  var fallback = function () {
    source.focus();
    source.select();
    say(document.execCommand && document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(source.value).then(function () { say("Copied."); }, fallback);
  } else {
    fallback();
  }
});
