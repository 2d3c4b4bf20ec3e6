/* The crews' phone page (web/crew.py, docs/CREWS.md).
 *
 * Draws the chosen day from the partner routes API, queues every report and photo
 * in an outbox (IndexedDB) with its Idempotency-Key made once, and sends the
 * outbox in order whenever the network is there: on load, on the `online` event,
 * after each new item and every 30 s while something waits. A network failure or a
 * 5xx keeps the item (and stops the round, so reports keep their order); 2xx,
 * including a 200 replay of a retried key, removes it; a 4xx that cannot succeed
 * is kept and shown as failed with the server's message. 401/403 (signed out,
 * stale CSRF) keep it waiting until the crew signs in again.
 *
 * Every text comes from the server (#crew-texts, #crew-labels); no inline script.
 */
(function () {
  "use strict";
  const root = document.getElementById("crew");
  if (!root) return;

  const T = JSON.parse(document.getElementById("crew-texts").textContent);
  const L = JSON.parse(document.getElementById("crew-labels").textContent);
  const data = root.dataset;
  const $ = (id) => document.getElementById(id);

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach((child) => {
      if (child) node.append(child);
    });
    return node;
  }

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return "crew-" + crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "crew-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* "12/07 07:58" in Tokyo time, whatever the phone's zone. */
  function stamp(date) {
    const parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Tokyo", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hour12: false,
    }).formatToParts(date).forEach((p) => { parts[p.type] = p.value; });
    return `${parts.month}/${parts.day} ${parts.hour}:${parts.minute}`;
  }

  const hhmm = (iso) => (iso ? iso.slice(11, 16) : "");

  /* --- the outbox (IndexedDB) ------------------------------------------------ */

  const DB_NAME = "crew-outbox";
  const STORE = "items";
  let dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => {
          request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return dbPromise;
  }

  async function tx(mode, work) {
    const database = await db();
    return new Promise((resolve, reject) => {
      const transaction = database.transaction(STORE, mode);
      const store = transaction.objectStore(STORE);
      let result;
      Promise.resolve(work(store)).then((value) => { result = value; });
      transaction.oncomplete = () => resolve(result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  function req(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  const outbox = {
    add: (item) => tx("readwrite", (store) => req(store.add(item))),
    all: () => tx("readonly", (store) => req(store.getAll())),
    put: (item) => tx("readwrite", (store) => req(store.put(item))),
    remove: (id) => tx("readwrite", (store) => req(store.delete(id))),
  };

  /* An outbox item: {kind: "report"|"photo", url, method, headers, body, label, job,
   * report, created}. body is {json: {...}} or {form: [[name, value, filename?], ...]}
   * where a value may be a Blob (IndexedDB stores Blobs). The Idempotency-Key is in
   * headers, made once when the item is created, so every retry sends the same. */
  async function enqueue(item) {
    item.created = new Date().toISOString();
    item.state = "waiting";
    await outbox.add(item);
    await showOutbox();
    flush();
  }

  function requestOf(item) {
    const headers = Object.assign({}, item.headers, { "X-CSRFToken": csrf() });
    let body;
    if (item.body.json) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(item.body.json);
    } else {
      body = new FormData();
      item.body.form.forEach(([name, value, filename]) => {
        if (filename) body.append(name, value, filename);
        else body.append(name, value);
      });
    }
    return { method: item.method, headers, body, credentials: "same-origin" };
  }

  async function errorMessage(response) {
    try {
      const payload = await response.json();
      const error = payload.error || {};
      const fields = Object.entries(error.fields || {})
        .map(([name, problems]) => `${name}: ${[].concat(problems).join(" ")}`);
      return [error.message, ...fields].filter(Boolean).join(" — ") || String(response.status);
    } catch (e) {
      return String(response.status);
    }
  }

  let flushing = null;
  let signInNeeded = false;

  let again = false;

  function flush() {
    if (flushing) {
      again = true; // an item added during a round is sent by the next one
      return flushing;
    }
    flushing = sendAll().finally(() => {
      flushing = null;
      if (again) {
        again = false;
        flush();
      }
    });
    return flushing;
  }

  async function sendAll() {
    const items = (await outbox.all()).sort((a, b) => a.id - b.id);
    let sentAny = false;
    signInNeeded = false;
    for (const item of items) {
      if (item.state === "failed") continue;
      let response;
      try {
        response = await fetch(item.url, requestOf(item));
      } catch (e) {
        break; // offline: keep it, and everything after it, for the next round
      }
      if (response.ok) {
        await outbox.remove(item.id);
        sentAny = true;
        continue;
      }
      if (response.status === 401 || response.status === 403 || response.redirected) {
        signInNeeded = true;
        break;
      }
      if (response.status >= 500 || response.status === 429 || response.status === 408) break;
      item.state = "failed";
      item.error = await errorMessage(response);
      await outbox.put(item);
    }
    await showOutbox();
    if (sentAny && navigator.onLine) loadDay(current, { quiet: true });
  }

  async function showOutbox() {
    const items = (await outbox.all()).sort((a, b) => a.id - b.id);
    const box = $("crew-outbox");
    const list = $("crew-outbox-list");
    const waiting = items.filter((item) => item.state !== "failed");
    box.hidden = items.length === 0 && !signInNeeded;
    const failed = items.length - waiting.length;
    $("crew-outbox-title").textContent = waiting.length || !failed
      ? fmt(T.waiting, { count: waiting.length })
      : fmt(T.not_sent, { count: failed });
    list.replaceChildren();
    if (signInNeeded) list.append(el("li", { class: "failed", text: T.sign_in }));
    items.forEach((item) => {
      const li = el("li", { class: item.state, "data-kind": item.kind }, [
        el("span", { text: item.label }),
      ]);
      if (item.state === "failed") {
        li.append(el("span", { class: "error", text: fmt(T.failed, { message: item.error }) }));
        const remove = el("button", { type: "button", class: "secondary", text: T.dismiss });
        remove.addEventListener("click", async () => {
          await outbox.remove(item.id);
          showOutbox();
        });
        li.append(remove);
      }
      list.append(li);
    });
    pending = new Map();
    waiting.forEach((item) => {
      if (item.kind === "report") pending.set(item.job, item.report);
    });
    markPending();
  }

  let pending = new Map();

  function markPending() {
    document.querySelectorAll(".crew-stop").forEach((card) => {
      const job = Number(card.dataset.job);
      const note = card.querySelector(".crew-pending");
      const report = pending.get(job);
      note.hidden = !report;
      note.textContent = report ? fmt(T.queued, { report: L.report[report] || report }) : "";
      // Done or not finished is said once: no second report while the first waits.
      const closed = report === "completed" || report === "incomplete";
      card.querySelectorAll(".crew-actions button[data-report]").forEach((button) => {
        button.disabled = closed || button.dataset.allowed !== "true";
      });
    });
  }

  /* --- reports and photos ---------------------------------------------------- */

  function stopName(stop) {
    return `${stop.sequence}. ${stop.site.name}`;
  }

  const startedJobs = new Set(); // "started" queued from this page: done needs no second one

  function report(stop, kind, extra) {
    if (kind === "started") startedJobs.add(stop.job.id);
    const body = Object.assign(
      { kind, reason_code: "", reason_text: "", occurred_at: new Date().toISOString() },
      extra || {}
    );
    return enqueue({
      kind: "report",
      url: data.reportsUrl.replace("/0/", `/${stop.job.id}/`),
      method: "POST",
      headers: { "Idempotency-Key": newKey(), "Accept-Language": data.language },
      body: { json: body },
      label: `${stopName(stop)} — ${L.report[kind] || kind}`,
      job: stop.job.id,
      report: kind,
    });
  }

  let dialogStop = null;

  function askIncomplete(stop) {
    dialogStop = stop;
    $("crew-incomplete-stop").textContent = stopName(stop);
    $("crew-reason-text").value = "";
    $("crew-incomplete").showModal();
  }

  $("crew-incomplete-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const stop = dialogStop;
    $("crew-incomplete").close();
    if (!stop) return;
    report(stop, "incomplete", {
      reason_code: $("crew-reason").value,
      reason_text: $("crew-reason-text").value.trim(),
    });
  });

  function askDone(stop) {
    dialogStop = stop;
    $("crew-done-stop").textContent = stopName(stop);
    for (const id of ["crew-mc-serial", "crew-port", "crew-light-level", "crew-done-note"]) {
      $(id).value = "";
    }
    $("crew-done").showModal();
  }

  $("crew-done-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const stop = dialogStop;
    $("crew-done").close();
    if (!stop) return;
    // What support will need: sent with the report only when the crew wrote any of it.
    const facts = {};
    const serial = $("crew-mc-serial").value.trim();
    const port = $("crew-port").value.trim();
    const light = $("crew-light-level").value.trim();
    const note = $("crew-done-note").value.trim();
    if (serial) facts.mc_serial = serial;
    if (port) facts.port = port;
    if (light) facts.light_level_dbm = light;
    if (note) facts.note = note;
    // The job must be in progress before it is done: a crew that skipped
    // "start" gets it sent first, in order, from the same outbox.
    const status = stop.job.status;
    if ((status === "scheduled" || status === "dispatched") && !startedJobs.has(stop.job.id)) {
      await report(stop, "started");
    }
    report(stop, "completed", Object.keys(facts).length ? { facts } : {});
  });

  function askPhoto(stop) {
    dialogStop = stop;
    $("crew-photo-stop").textContent = stopName(stop);
    $("crew-photo-form").reset();
    $("crew-photo").showModal();
  }

  $("crew-photo-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const stop = dialogStop;
    const file = $("crew-photo-file").files[0];
    if (!stop || !file) return;
    $("crew-photo").close();
    const kind = $("crew-photo-kind").value;
    enqueue({
      kind: "photo",
      url: data.photosUrl,
      method: "POST",
      headers: { "Idempotency-Key": newKey(), "Accept-Language": data.language },
      body: {
        form: [
          ["job", String(stop.job.id)],
          ["kind", kind],
          ["caption", $("crew-photo-caption").value.trim()],
          ["file", file, file.name || "photo.jpg"],
        ],
      },
      label: `${stopName(stop)} — ${fmt(T.photo_item, { kind: L.photo_kind[kind] || kind })}`,
      job: stop.job.id,
    });
  });

  document.querySelectorAll("dialog [data-close]").forEach((button) => {
    button.addEventListener("click", () => button.closest("dialog").close());
  });

  /* --- the day --------------------------------------------------------------- */

  function section(title, children, className) {
    const kept = children.filter(Boolean);
    if (!kept.length) return null;
    return el("section", { class: `crew-part ${className || ""}` }, [el("h4", { text: title }), ...kept]);
  }

  const para = (text, className) => (text ? el("p", { class: className, text }) : null);

  function labelled(label, value) {
    return value ? el("p", {}, [el("b", { text: `${label}: ` }), document.createTextNode(value)]) : null;
  }

  function mapLink(stop) {
    const site = stop.site;
    const query = site.latitude !== null && site.longitude !== null
      ? `${site.latitude},${site.longitude}` : site.address;
    const href = "https://www.google.com/maps/search/?api=1&query=" + encodeURIComponent(query);
    return el("a", { class: "crew-map", href, target: "_blank", rel: "noopener", text: T.map });
  }

  function accessPart(access) {
    const today = access.today || [];
    const ranges = today.length ? today.map(([a, b]) => `${a}–${b}`).join(", ") : T.closed;
    const allDay = ranges === "00:00–24:00"; // no restriction: the description says so
    return section(T.access, [
      allDay ? null : el("p", { class: "crew-hours" }, [el("b", { text: ranges })]),
      para(access.description, "muted"),
      para(access.notes),
    ], "crew-access");
  }

  function parkingPart(parking) {
    const kind = parking.kind ? L.parking[parking.kind] || parking.kind : "";
    return section(T.parking, [para(kind, "crew-parking-kind"), para(parking.arrangement)]);
  }

  function contactPart(customer) {
    if (!customer) return null;
    const phone = (number) => (number
      ? el("p", {}, [el("a", { href: "tel:" + number.replace(/[^\d+]/g, ""), class: "crew-tel", text: number })])
      : null);
    return section(T.contact, [
      para([customer.name, customer.contact_person].filter(Boolean).join(" / ")),
      phone(customer.phone),
      phone(customer.phone_alt),
    ]);
  }

  function notesPart(notes) {
    const built = notes.as_built;
    const survey = notes.survey;
    const lines = built ? [
      labelled(T.media_converter, built.media_converter_location),
      labelled(T.port, built.port),
      labelled(T.riser, built.riser),
      labelled(T.cable_route, built.cable_route),
      labelled(T.notes, built.notes),
    ] : [];
    if (survey) lines.push(labelled(T.survey_riser, survey.riser_route));
    return section(T.as_built, lines);
  }

  function buttons(stop) {
    const job = stop.job;
    const status = job.status;
    const live = stop.on_schedule && !["completed", "handed_over", "cancelled"].includes(status);
    const row = el("div", { class: "crew-actions" });
    const add = (text, className, handler, enabled, kind) => {
      const button = el("button", {
        type: "button", class: className, text, disabled: !enabled,
        "data-report": kind, "data-allowed": enabled ? "true" : "false",
      });
      button.addEventListener("click", handler);
      row.append(button);
    };
    const future = stop.__date > data.today;
    const can = live && !future;
    add(T.en_route, "secondary", () => report(stop, "en_route"), can && status === "scheduled", "en_route");
    add(T.started, "secondary", () => report(stop, "started"),
      can && (status === "scheduled" || status === "dispatched"), "started");
    add(T.done, "primary", () => askDone(stop), can, "completed");
    add(T.incomplete, "danger", () => askIncomplete(stop), can, "incomplete");
    add(T.add_photo, "secondary crew-photo-button", () => askPhoto(stop), stop.on_schedule || status === "completed");
    return row;
  }

  function stopCard(stop) {
    const job = stop.job;
    const slot = job.window_start
      ? `${job.window_start.slice(0, 5)}–${(job.window_end || "").slice(0, 5)}${job.promise_is_hard ? ` (${T.promised})` : ""}`
      : "";
    const card = el("article", {
      class: `crew-stop status-${job.status}${stop.on_schedule ? "" : " off"}`,
      "data-job": job.id,
      "data-ref": job.reference,
    }, [
      el("header", {}, [
        el("span", { class: "crew-seq", text: String(stop.sequence) }),
        el("div", {}, [
          el("h3", { text: stop.site.name }),
          el("p", { class: "crew-times" }, [
            el("b", { text: `${T.arrival} ${hhmm(stop.planned_arrival)}` }),
            document.createTextNode(
              ` · ${T.work} ${hhmm(stop.planned_start)}–${hhmm(stop.planned_end)}`
            ),
          ]),
          para(slot ? `${T.customer_slot}: ${slot}` : "", "muted"),
          el("p", { class: "muted" }, [
            el("span", { class: "badge", text: L.job_kind[job.kind] || job.kind }),
            document.createTextNode(" "),
            el("span", { class: "badge crew-status", text: L.job_status[job.status] || job.status }),
            document.createTextNode(` ${job.reference}`),
          ]),
        ]),
      ]),
      el("p", { class: "crew-address" }, [document.createTextNode(stop.site.address + " "), mapLink(stop)]),
      stop.on_schedule ? null : para(T.off_schedule, "crew-off"),
      el("p", { class: "crew-pending", hidden: true }),
      buttons(stop),
      accessPart(stop.access),
      parkingPart(stop.parking),
      section(T.instructions, [para(job.work_instructions)]),
      contactPart(stop.customer),
      notesPart(stop.site_notes),
    ]);
    return card;
  }

  function drawDay(payload) {
    const target = $("crew-routes");
    target.replaceChildren();
    const routes = payload.routes || [];
    const withStops = routes.filter((route) => route.stops.length);
    if (!withStops.length) {
      target.append(el("p", { class: "crew-empty", text: T.no_stops }));
      return;
    }
    withStops.forEach((route) => {
      const head = el("header", { class: "crew-route-head" }, [
        el("h2", { text: route.crew.name }),
        el("p", { class: "muted", text: [
          fmt(T.stops, { count: route.stops.length }),
          route.lunch ? fmt(T.lunch, { start: hhmm(route.lunch.start), end: hhmm(route.lunch.end) }) : "",
        ].filter(Boolean).join(" · ") }),
      ]);
      const list = el("div", { class: "crew-stops" });
      route.stops.forEach((stop) => {
        stop.__date = payload.date;
        list.append(stopCard(stop));
      });
      target.append(el("section", { class: "crew-route", "data-crew": route.crew.id }, [head, list]));
    });
    markPending();
  }

  let current = data.chosen;

  async function loadDay(date, options) {
    const quiet = options && options.quiet;
    current = date;
    if (!quiet) $("crew-loading").hidden = false;
    const url = `${data.routesUrl}?date=${encodeURIComponent(date)}`;
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json", "Accept-Language": data.language },
      });
      if (response.redirected || response.status === 401 || response.status === 403) {
        signInNeeded = true;
        showOutbox();
        throw new Error("signed out");
      }
      if (!response.ok) throw new Error(String(response.status));
      const payload = await response.json();
      if (date !== current) return;
      // The service worker answers from its cache when offline and says so.
      const cachedAt = response.headers.get("X-Crew-Fetched-At");
      showStale(cachedAt ? new Date(cachedAt) : null);
      drawDay(payload);
    } catch (e) {
      if (date !== current) return;
      if (!quiet) {
        $("crew-routes").replaceChildren(el("p", { class: "crew-empty", text: T.no_copy }));
        showStale(null);
      }
    } finally {
      $("crew-loading").hidden = true;
    }
  }

  function showStale(when) {
    const note = $("crew-stale");
    note.hidden = !when;
    note.textContent = when ? fmt(T.fetched, { time: stamp(when) }) : "";
  }

  /* Today's and tomorrow's routes go through the service worker, which keeps a copy. */
  function prefetch() {
    [data.today, data.tomorrow].filter((day) => day !== current).forEach((day) => {
      fetch(`${data.routesUrl}?date=${day}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json", "Accept-Language": data.language },
      }).catch(() => {});
    });
  }

  document.querySelectorAll(".crew-days a").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      document.querySelectorAll(".crew-days a").forEach((other) => other.removeAttribute("aria-current"));
      link.setAttribute("aria-current", "date");
      history.replaceState(null, "", `?date=${link.dataset.date}`);
      loadDay(link.dataset.date);
    });
  });

  function showNetwork() {
    $("crew-net").hidden = navigator.onLine;
    $("crew-net").textContent = T.offline;
    root.classList.toggle("is-offline", !navigator.onLine);
  }

  // Signing out drops the saved routes (customers' data); the outbox stays, to be
  // sent after the next sign-in.
  const logout = document.querySelector("form.logout");
  if (logout && "caches" in window) {
    logout.addEventListener("submit", (event) => {
      event.preventDefault();
      caches.delete("crew-routes-v1").finally(() => logout.submit());
    }, { once: true });
  }

  window.addEventListener("online", () => {
    showNetwork();
    flush();
  });
  window.addEventListener("offline", showNetwork);
  $("crew-send-now").addEventListener("click", () => flush());
  setInterval(async () => {
    if (navigator.onLine && (await outbox.all()).some((item) => item.state !== "failed")) flush();
  }, 30000);

  async function start() {
    if ("serviceWorker" in navigator) {
      try {
        await navigator.serviceWorker.register(data.swUrl, { scope: data.scope });
      } catch (e) { /* the page works online without it */ }
    }
    showNetwork();
    await showOutbox();
    await loadDay(current);
    flush();
    if (navigator.onLine) prefetch();
  }

  // Tests and the curious can wait for this.
  root.crewReady = start().then(() => { root.dataset.ready = "true"; });
})();
