// The support desk, keyboard first: type to search, ↑/↓ to choose, Enter to open the card,
// "/" to come back to the search box. Plain fetch of server-rendered fragments; without
// JavaScript the same links and forms work as ordinary page loads.
(function () {
  "use strict";
  var desk = document.querySelector(".desk");
  if (!desk) return;
  var input = document.getElementById("desk-q");
  var results = document.getElementById("desk-results");
  var cardPane = document.getElementById("desk-card");
  var searchUrl = desk.dataset.searchUrl;
  var cardUrl = desk.dataset.cardUrl.replace(/0\/$/, "");
  var deskUrl = desk.dataset.deskUrl;
  var timer = null;
  var latest = 0;

  function options() {
    return Array.prototype.slice.call(results.querySelectorAll("[role=option]"));
  }

  function select(index) {
    var all = options();
    if (!all.length) { input.removeAttribute("aria-activedescendant"); return; }
    index = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", all[index].id);
    all[index].scrollIntoView({ block: "nearest" });
  }

  function selectedIndex() {
    return options().findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
  }

  function search() {
    var query = input.value.trim();
    var ticket = ++latest;
    if (!query) { results.innerHTML = ""; input.setAttribute("aria-expanded", "false"); return; }
    fetch(searchUrl + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (ticket !== latest) return;  // a newer keystroke already asked again
        results.innerHTML = html;
        input.setAttribute("aria-expanded", options().length ? "true" : "false");
        select(0);
      });
  }

  function openCard(siteId) {
    var query = input.value.trim();
    fetch(cardUrl + siteId + "/", { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        cardPane.innerHTML = html;
        // The forms post back with the query, so the desk comes back as it was.
        cardPane.querySelectorAll("input[name=q]").forEach(function (field) { field.value = query; });
        // Found by the number the caller gave: that is the number to call back.
        var callerPhone = cardPane.querySelector("#id_call-caller_phone");
        if (callerPhone && !callerPhone.value && /^[\d\s()+\-\uff10-\uff19\uff08\uff09\uff0d]{6,}$/.test(query)) {
          callerPhone.value = query;
        }
        var params = new URLSearchParams();
        if (query) params.set("q", query);
        params.set("site", siteId);
        history.replaceState(null, "", deskUrl + "?" + params.toString());
        var title = document.getElementById("card-title");
        if (title) title.focus();
      });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") { event.preventDefault(); select(selectedIndex() + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); select(selectedIndex() - 1); }
    else if (event.key === "Enter") {
      var chosen = options()[Math.max(0, selectedIndex())];
      if (chosen) { event.preventDefault(); openCard(chosen.dataset.site); }
    } else if (event.key === "Escape") { input.value = ""; search(); }
  });

  results.addEventListener("click", function (event) {
    var option = event.target.closest("[role=option]");
    if (!option) return;
    event.preventDefault();
    select(options().indexOf(option));
    openCard(option.dataset.site);
  });

  document.addEventListener("keydown", function (event) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (event.key === "/" && !typing) { event.preventDefault(); input.focus(); input.select(); }
    if (event.key === "Escape" && typing && event.target !== input) { input.focus(); }
  });

  // "Offer visit slots": the kind of work presets the skills and the duration (both editable).
  // Delegated, so it also works on a card swapped in after the page loaded.
  document.addEventListener("change", function (event) {
    var kind = event.target;
    if (!kind.classList || !kind.classList.contains("slot-kind")) return;
    var form = kind.form;
    var chosen = kind.options[kind.selectedIndex];
    var skills = (chosen.dataset.skills || "").split(",").filter(Boolean);
    form.querySelectorAll("input[name=skills]").forEach(function (box) {
      box.checked = skills.indexOf(box.value) !== -1;
    });
    var minutes = form.querySelector("input[name=duration_minutes]");
    if (minutes && chosen.dataset.minutes) minutes.value = chosen.dataset.minutes;
  });

  if (options().length) select(0);
  // After saving a call the page comes back at #call-N: show it, and keep typing in the box.
  // By id, not as a selector: the hash is whatever the address bar holds.
  var anchor = null;
  try {
    anchor = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  } catch (e) {
    anchor = null;  // a malformed %-escape
  }
  if (anchor) {
    anchor.scrollIntoView({ block: "center" });
  }
})();
