// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Visitors without an account see times in their browser's zone.
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("rb_tz=") === -1) {
      document.cookie = "rb_tz=" + encodeURIComponent(tz) + ";path=/;max-age=31536000;samesite=lax";
    }
  } catch (e) { /* old browser: the server default applies */ }
  document.addEventListener("DOMContentLoaded", function () {
    // Move focus to the error summary so screen readers announce what needs fixing.
    var summary = document.querySelector("[data-autofocus]");
    if (summary) { summary.focus(); }
    // Forms that must not be sent twice: the button says it is working and is disabled.
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          // The clicked button's name and value still travel: copy them before disabling.
          if (button.name) {
            var hidden = document.createElement("input");
            hidden.type = "hidden"; hidden.name = button.name; hidden.value = button.value;
            form.appendChild(hidden);
          }
          if (button.dataset.workingText) { button.textContent = button.dataset.workingText; }
          button.setAttribute("aria-busy", "true");
          button.disabled = true;
        });
      });
    });
  });
})();
