// "Copy link" on the credential page. Without script (or without clipboard access, which
// browsers give only to https pages) the button stays hidden and the address stays in a
// read-only field that can be selected and copied by hand.
(function () {
  "use strict";

  function setUp(button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector('[data-copy-status="' + button.getAttribute("data-copy") + '"]');
    if (!input || !navigator.clipboard || !window.isSecureContext) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = "Copied";
        if (status) { status.textContent = "Link copied."; }
      }, function () {
        input.focus();
        input.select();
      });
    });
  }

  function ready() {
    var buttons = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < buttons.length; i += 1) {
      setUp(buttons[i]);
    }
    var fields = document.querySelectorAll(".public-copy input[readonly]");
    for (var j = 0; j < fields.length; j += 1) {
      fields[j].addEventListener("focus", function (event) { event.target.select(); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
}());
