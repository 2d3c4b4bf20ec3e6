/* The Import page: Check and Import post the form in the background, so the file
 * stays selected between the two presses, and the report is swapped in. Without
 * JavaScript the form posts normally and the coordinator picks the file again. */
(function () {
  "use strict";
  const form = document.getElementById("import-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.submitter;
    const data = new FormData(form);
    if (button && button.name) data.set(button.name, button.value);
    form.setAttribute("aria-busy", "true");
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      // form.action would be the "action" buttons (named so for the no-JS post).
      const response = await fetch(form.getAttribute("action"), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      if (!page.getElementById("import-report")) {
        const report = document.getElementById("import-report");
        report.innerHTML = "";
        const failed = document.createElement("p");
        failed.className = "error";
        failed.setAttribute("role", "alert");
        failed.textContent = form.dataset.textFailed;
        report.append(failed);
        return;
      }
      for (const id of ["import-report", "import-form"]) {
        const fresh = page.getElementById(id);
        const here = document.getElementById(id);
        if (!fresh || !here) continue;
        if (id === "import-form") {
          // Keep the chosen file: take only the errors and the Import button's state.
          for (const old of here.querySelectorAll(".field")) {
            const name = old.querySelector("[name]")?.name;
            const twin = name && fresh.querySelector(`[name="${name}"]`)?.closest(".field");
            if (twin) {
              old.classList.toggle("has-error", twin.classList.contains("has-error"));
              old.querySelector(".error")?.remove();
              const error = twin.querySelector(".error");
              if (error) old.append(error);
            }
          }
          const apply = fresh.querySelector("#import-apply");
          here.querySelector("#import-apply").dataset.allowed = apply && !apply.disabled ? "1" : "";
        } else {
          here.replaceWith(fresh);
        }
      }
    } finally {
      form.removeAttribute("aria-busy");
      for (const b of form.querySelectorAll("button")) {
        b.disabled = b.id === "import-apply" ? !b.dataset.allowed : false;
      }
    }
  });
  // A new file or kind needs a new check before it can be imported.
  form.addEventListener("change", () => {
    const apply = document.getElementById("import-apply");
    apply.dataset.allowed = "";
    apply.disabled = true;
  });
})();
