/* Behaviour every page shares. Loaded as a file: the Content-Security-Policy allows
 * no inline script and no on*="…" attribute. */
(function () {
  "use strict";
  // The language menu applies the choice at once (the form's button is for no-JS).
  const language = document.getElementById("language");
  if (language && language.form) {
    language.addEventListener("change", () => language.form.submit());
  }
})();
