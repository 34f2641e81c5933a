// A "Copy" button next to a read-only field: <button data-copy="FIELD_ID">.
// Without script the field is still there to select by hand; with it, one click copies the
// whole value (the Clipboard API, or the older copy command where that is refused) and the
// button says so.
(function () {
  "use strict";

  function copied(button, text) {
    var status = document.getElementById(button.getAttribute("data-copy") + "-copied");
    if (status) {
      status.textContent = text;
    }
  }

  function fallback(field, button) {
    field.focus();
    field.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    copied(button, ok ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) {
      return;
    }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        copied(button, "Copied.");
      }, function () {
        fallback(field, button);
      });
    } else {
      fallback(field, button);
    }
  });

  document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
    button.hidden = false; // shown only when this script runs
  });
}());
