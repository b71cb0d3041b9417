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
  });
})();
