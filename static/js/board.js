/* The week board: drag, lock, optimize, publish, drawer and map.
 *
 * Every change is a call to the REST API with the session cookie and the CSRF
 * token; the server checks it (the scheduler's validator) and the page then
 * swaps in freshly rendered cells, so what you see is always what the server
 * holds. A refused drag is undone by re-rendering the cells it touched, and
 * the broken rule is shown in the target cell.
 */
(function () {
  "use strict";
  performance.mark("board-script");
  const board = document.getElementById("board");
  if (!board) return;
  const planId = board.dataset.plan;
  // The page's words, translated by the server: data-* attributes, not an inline script
  // (the Content-Security-Policy allows no inline script).
  const wordsHolder = document.getElementById("board-text");
  const TEXT = wordsHolder ? { ...wordsHolder.dataset } : {};
  const statusLine = document.getElementById("board-status");

  function csrf() {
    return document.querySelector('meta[name="csrf-token"]').content;
  }
  function version() {
    return parseInt(board.dataset.version, 10);
  }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
  }
  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("error", Boolean(isError));
  }

  async function api(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrf(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    return { ok: response.ok, status: response.status, data };
  }

  function errorText(result) {
    const error = (result.data && result.data.error) || {};
    // The message names the rule in words (dates, hours, the crew); the code is for programs.
    const first = (error.violations && error.violations[0]) || null;
    const message = first ? first.message : error.message;
    return `${TEXT.refused || "Refused"}: ${message || TEXT.failed || result.status}`;
  }

  function queueQuery() {
    const form = document.getElementById("queue-filters");
    return form ? new URLSearchParams(new FormData(form)) : new URLSearchParams();
  }

  /* Replace cells (by "crew:date" key), the queue and the header with fresh server HTML. */
  async function refresh(cellKeys, withQueue) {
    const params = queueQuery();
    [...new Set(cellKeys)].forEach((key) => params.append("cell", key));
    if (withQueue) params.set("queue", "1");
    const response = await fetch(`/plans/${planId}/fragment/?${params}`, {
      credentials: "same-origin",
    });
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    const inner = template.content.querySelector("template");
    const fresh = inner ? inner.content : template.content;
    const stamp = fresh.querySelector("#plan-version");
    if (stamp) board.dataset.version = stamp.dataset.version;
    fresh.querySelectorAll("[data-swap][id]").forEach((element) => {
      if (element.id === "plan-version") return;
      const old = document.getElementById(element.id);
      if (old) old.replaceWith(element);
    });
    initSortables();
  }

  function showCellError(cellKey, text) {
    const cell = document.querySelector(`[data-cell="${cellKey}"]`);
    if (cell) {
      // Created on demand: 500 empty alert boxes would weigh on every page load.
      let box = cell.querySelector(".cell-error");
      if (!box) {
        box = document.createElement("p");
        box.className = "cell-error";
        box.setAttribute("role", "alert");
        cell.querySelector("ol.route").after(box);
      }
      box.textContent = text;
    }
    say(text, true);
  }

  function cellKeyOf(list) {
    return list.dataset.queue ? null : `${list.dataset.crew}:${list.dataset.date}`;
  }

  async function handleDrop(event) {
    const item = event.item;
    const from = event.from;
    const to = event.to;
    if (from === to && event.oldIndex === event.newIndex) return;
    const fromKey = cellKeyOf(from);
    const toKey = cellKeyOf(to);
    const cells = [fromKey, toKey].filter(Boolean);
    const touchesQueue = !fromKey || !toKey;
    const ref = item.dataset.ref;
    let result;
    if (!toKey) {
      result = await api("POST", `/api/v1/visits/${item.dataset.visit}/unassign/`, {
        version: version(),
      });
    } else {
      const body = {
        crew: parseInt(to.dataset.crew, 10),
        date: to.dataset.date,
        position: event.newIndex + 1,
        version: version(),
      };
      if (item.dataset.visit) {
        result = await api("POST", `/api/v1/visits/${item.dataset.visit}/move/`, body);
      } else {
        body.job = parseInt(item.dataset.job, 10);
        result = await api("POST", `/api/v1/plans/${planId}/visits/`, body);
      }
    }
    await refresh(cells, touchesQueue);
    if (result.ok) {
      const values = { job: ref, crew: to.dataset.crewName, date: to.dataset.date };
      const template = !toKey ? TEXT.unassigned : item.dataset.visit ? TEXT.moved : TEXT.placed;
      say(fmt(template, values), false);
    } else if (result.data && result.data.error && result.data.error.code === "plan_conflict") {
      say(TEXT.conflict, true);
      window.location.reload();
    } else {
      showCellError(toKey || fromKey, `${ref}: ${errorText(result)}`);
    }
  }

  function initSortables() {
    document.querySelectorAll('ol.route[data-droppable="true"]').forEach((list) => {
      if (list._sortable) return;
      list._sortable = Sortable.create(list, {
        group: { name: "visits", pull: true, put: true },
        sort: !list.dataset.queue,
        animation: 120,
        // Mouse-event dragging (not native HTML5 drag and drop): same feel, and
        // it works the same in every browser and under automation.
        forceFallback: true,
        // A pinned (locked) visit still moves by hand and stays pinned where it lands;
        // a started one, or one the crew reported not finished, does not move at all.
        filter: "button, .fixed, .released",
        preventOnFilter: false,
        onEnd: handleDrop,
      });
    });
  }

  /* Lock / unlock, drawer links, map links, run buttons: one delegated handler. */
  document.addEventListener("click", async (event) => {
    const target = event.target.closest("button, a");
    if (!target) return;
    if (target.dataset.lock) {
      const locked = target.getAttribute("aria-pressed") === "true";
      const item = target.closest("li");
      const cell = target.closest("[data-cell]").dataset.cell;
      const result = await api(
        "POST",
        `/api/v1/visits/${target.dataset.lock}/${locked ? "unlock" : "lock"}/`,
        { version: version() },
      );
      await refresh([cell], false);
      if (result.ok) say(fmt(locked ? TEXT.unlocked : TEXT.locked, { job: item.dataset.ref }));
      else showCellError(cell, errorText(result));
    } else if (target.dataset.drawer) {
      event.preventDefault();
      openDrawer(target.dataset.drawer);
    } else if (target.dataset.mapCrew) {
      openMap(`crew=${target.dataset.mapCrew}&date=${target.dataset.mapDate}`);
    } else if (target.id === "map-unplanned") {
      openMap(queueQuery().toString());
    } else if (target.dataset.close !== undefined) {
      target.closest("dialog").close();
    } else if (target.dataset.cancelRun) {
      target.disabled = true;
      await api("POST", `/api/v1/runs/${target.dataset.cancelRun}/cancel/`);
    } else if (target.dataset.acceptRun) {
      const result = await api("POST", `/api/v1/runs/${target.dataset.acceptRun}/accept/`);
      if (result.ok) document.getElementById("run-panel").replaceChildren();
      else say(errorText(result), true);
    } else if (target.dataset.discardRun) {
      const result = await api("POST", `/api/v1/runs/${target.dataset.discardRun}/discard/`);
      if (result.ok) window.location.reload();
      else say(errorText(result), true);
    } else if (target.id === "publish") {
      const dialog = document.getElementById("publish-dialog");
      const response = await fetch(target.dataset.summary, { credentials: "same-origin" });
      document.getElementById("publish-body").innerHTML = await response.text();
      dialog.showModal();
    } else if (target.id === "publish-confirm") {
      const result = await api("POST", `/api/v1/plans/${planId}/publish/`, { version: version() });
      if (result.ok) window.location.reload();
      else if (!showScheduleConflicts(target.closest("dialog"), result)) {
        const box = target.closest("dialog").querySelector(".cell-error");
        box.textContent = errorText(result);
        box.hidden = false;
      }
    } else if (target.id === "revise") {
      const result = await api("POST", `/api/v1/plans/${planId}/revise/`);
      if (result.ok) window.location.href = `/plans/${result.data.id}/`;
      else say(errorText(result), true);
    } else if (target.dataset.unassign) {
      const result = await api("POST", `/api/v1/visits/${target.dataset.unassign}/unassign/`, {
        version: version(),
      });
      if (result.ok) window.location.reload();
      else formError(target, result);
    }
  });

  /* A 409 schedule_conflict: list what another published plan holds, not a bare error. */
  function showScheduleConflicts(dialog, result) {
    const error = (result.data && result.data.error) || {};
    const conflicts = error.conflicts || [];
    const box = dialog.querySelector(".publish-refused");
    if (error.code !== "schedule_conflict" || !conflicts.length || !box) return false;
    const section = document.createElement("section");
    section.className = "conflicts";
    section.dataset.conflicts = String(conflicts.length);
    const title = document.createElement("h3");
    title.textContent = TEXT.conflictRefused;
    const list = document.createElement("ul");
    conflicts.forEach((conflict) => {
      const values = {
        job: conflict.job,
        crew: conflict.crew,
        date: conflict.date,
        plan: conflict.held_by_plan,
      };
      const item = document.createElement("li");
      item.className = `conflict conflict-${conflict.kind}`;
      const words = conflict.kind === "job" ? TEXT.conflictJob : TEXT.conflictCrewDay;
      const link = document.createElement("a");
      link.href = `/plans/${conflict.held_by_plan}/`;
      link.textContent = fmt(TEXT.openPlan, values);
      item.append(fmt(words, values), " · ", link);
      list.append(item);
    });
    const hint = document.createElement("p");
    hint.textContent = TEXT.conflictHint;
    section.append(title, list, hint);
    // The list shown when the dialog opened is replaced by the server's answer.
    dialog.querySelectorAll(".conflicts").forEach((old) => old.remove());
    box.replaceChildren(section);
    box.hidden = false;
    const generic = dialog.querySelector(".cell-error");
    if (generic) generic.hidden = true;
    return true;
  }

  function formError(element, result) {
    const box = element.closest("section").querySelector(".cell-error");
    box.textContent = errorText(result);
    box.hidden = false;
  }

  /* Optimize: start the run, then let htmx poll the progress panel. */
  const optimizeForm = document.getElementById("optimize-form");
  if (optimizeForm) {
    optimizeForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const seconds = parseInt(optimizeForm.time_limit_seconds.value, 10);
      const button = document.getElementById("optimize");
      button.disabled = true;
      const result = await api("POST", `/api/v1/plans/${planId}/optimize/`, {
        time_limit_seconds: seconds,
      });
      if (!result.ok) {
        button.disabled = false;
        say(errorText(result), true);
        return;
      }
      const response = await fetch(`/runs/${result.data.id}/progress/`, {
        credentials: "same-origin",
      });
      const panel = document.getElementById("run-panel");
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();
      const fresh = holder.firstElementChild;
      panel.replaceWith(fresh);
      htmx.process(fresh);
    });
  }

  /* When a polled run finishes, reload the board to show its proposal and comparison. */
  document.body.addEventListener("htmx:afterSettle", (event) => {
    const detail = event.detail || {};
    const path =
      (detail.pathInfo && detail.pathInfo.requestPath) ||
      (detail.requestConfig && detail.requestConfig.path) ||
      "";
    if (!path.includes("/progress/")) return;
    const panel = document.getElementById("run-panel");
    if (!panel || !panel.dataset.runStatus) return;
    if (!["queued", "running"].includes(panel.dataset.runStatus)) {
      window.location.reload();
    }
  });

  /* Job drawer, with a keyboard alternative to dragging. */
  async function openDrawer(jobId) {
    const dialog = document.getElementById("drawer");
    const response = await fetch(`/jobs/${jobId}/drawer/?plan=${planId}`, {
      credentials: "same-origin",
    });
    document.getElementById("drawer-body").innerHTML = await response.text();
    dialog.showModal();
    const form = dialog.querySelector(".move-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        crew: parseInt(form.crew.value, 10),
        date: form.date.value,
        version: version(),
      };
      if (form.position.value) body.position = parseInt(form.position.value, 10);
      let result;
      if (form.dataset.visit) {
        result = await api("POST", `/api/v1/visits/${form.dataset.visit}/move/`, body);
      } else {
        body.job = parseInt(form.dataset.job, 10);
        result = await api("POST", `/api/v1/plans/${planId}/visits/`, body);
      }
      if (result.ok) window.location.reload();
      else formError(form, result);
    });
  }

  /* Leaflet renders a string tooltip or popup as HTML; labels hold job references and
     site names (stored data, anyone's input), so they go in as a text node, never markup. */
  function textNode(text) {
    const span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span;
  }

  /* Map: Leaflet with the configured tiles, or points and lines on a plain background. */
  let map = null;
  let layer = null;
  async function openMap(query) {
    const dialog = document.getElementById("map-dialog");
    dialog.showModal();
    if (!map) {
      map = L.map("map", { zoomControl: true, attributionControl: true });
      const tiles = board.dataset.mapTiles;
      if (tiles) {
        L.tileLayer(tiles, { attribution: board.dataset.mapAttribution, maxZoom: 19 }).addTo(map);
      }
      map.setView([35.68, 139.76], 11);
    }
    const response = await fetch(`/plans/${planId}/map.json?${query}`, {
      credentials: "same-origin",
    });
    const data = await response.json();
    if (layer) layer.remove();
    const colours = { home: "#13263d", visit: "#0b63c5", unplanned: "#c0392b" };
    layer = L.geoJSON(data, {
      style: (feature) =>
        feature.geometry.type === "LineString" ? { color: "#0b63c5", weight: 3 } : {},
      pointToLayer: (feature, latlng) =>
        L.circleMarker(latlng, {
          radius: feature.properties.kind === "home" ? 8 : 6,
          color: colours[feature.properties.kind] || "#333",
          fillOpacity: 0.8,
        }).bindTooltip(textNode(feature.properties.label), {
          permanent: feature.properties.kind === "visit",
          direction: "right",
        }),
    }).addTo(map);
    map.invalidateSize();
    const bounds = layer.getBounds();
    // maxZoom: one point makes empty bounds, and without a tile layer the map has no
    // zoom limit of its own (the marker was drawn at an infinite zoom, out of sight).
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
    dialog.dataset.features = String(data.features.length);
  }

  initSortables();
  // "Usable": every crew-day accepts drops. Measured by benchmarks/board_render.py.
  // Marked after the next frame, so the board has been laid out and painted.
  requestAnimationFrame(() =>
    setTimeout(() => {
      performance.mark("board-ready");
      board.dataset.ready = "true";
    }, 0),
  );
})();
