// Shared by every page: the bearer token, calls to the JSON API, small formatters.
// The token comes once in the URL fragment (#token=…, printed by `sysjobs serve`) and is
// kept in localStorage; the fragment never reaches the server or its access log.
// The app switcher (a <select> in the header, filled from GET /api/apps) picks the app every
// API call is about (the X-Sysjobs-App header); the choice is kept in localStorage too.
"use strict";

const Sysjobs = (() => {
  const KEY = "sysjobsToken";
  const APP_KEY = "sysjobsApp";
  const REFRESH_KEY = "sysjobsRefreshMs";
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    localStorage.setItem(KEY, fromHash);
    history.replaceState(null, "", location.pathname + location.search);
  }

  function token() { return localStorage.getItem(KEY) || ""; }

  // The app calls are about: the remembered choice once /api/apps confirmed the token
  // reaches it ("" until then, and when it does not: the server's default app).
  let currentApp = "";
  function app() { return currentApp; }

  function authHeaders() {
    const headers = { Authorization: "Bearer " + token() };
    if (currentApp) headers["X-Sysjobs-App"] = currentApp;
    return headers;
  }

  // Every page's calls wait for the switcher: a remembered app the token no longer reaches
  // (another token, an app gone from the dashboard) is dropped before any call names it.
  const appsReady = switcher();

  async function api(path, options = {}) {
    await appsReady;
    const headers = Object.assign(authHeaders(), options.headers || {});
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method: options.method || "GET", headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const body = await response.json().catch(() => ({ code: "badResponse", message: response.statusText }));
    if (!response.ok) {
      if (response.status === 401) showLogin();
      const error = new Error(body.code + ": " + body.message);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // Files need the token in the Authorization header (a fileLink holds no secret), so a
  // plain link cannot download them: fetch with the header, then save the blob.
  async function download(path) {
    await appsReady;
    const response = await fetch(path.split("?")[0], { headers: authHeaders() });
    if (!response.ok) {
      const body = await response.json().catch(() => ({ code: "badResponse", message: response.statusText }));
      if (response.status === 401) showLogin();
      throw new Error(body.code + ": " + body.message);
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]*)"/.exec(disposition);
    const url = URL.createObjectURL(await response.blob());
    const anchor = el("a", { href: url, download: match ? match[1] : "download" });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // Fills the header's app switcher from GET /api/apps; hidden when the token reaches one
  // app. Choosing another app remembers it and reloads the page (a job page goes to the
  // list: its job is the other app's no more).
  async function switcher() {
    const header = document.querySelector("header");
    const select = document.createElement("select");
    select.id = "app-switch";
    select.hidden = true;
    select.setAttribute("aria-label", "App");
    select.setAttribute("data-testid", "app-switch");
    if (header) header.insertBefore(select, document.getElementById("role"));
    let apps = [];
    try {
      const response = await fetch("/api/apps", { headers: { Authorization: "Bearer " + token() } });
      if (response.ok) apps = (await response.json()).apps || [];
    } catch (e) { apps = []; }
    const remembered = localStorage.getItem(APP_KEY) || "";
    currentApp = apps.includes(remembered) ? remembered : (apps[0] || "");
    for (const key of apps) {
      const option = document.createElement("option");
      option.value = key;
      option.textContent = key;
      select.append(option);
    }
    select.value = currentApp;
    select.hidden = apps.length < 2;
    document.body.dataset.app = currentApp;
    select.addEventListener("change", () => {
      localStorage.setItem(APP_KEY, select.value);
      if (location.pathname.startsWith("/jobs/")) location.assign("/");
      else location.reload();
    });
  }

  function showLogin() {
    const form = document.getElementById("login");
    if (!form || !form.hidden) return;
    form.hidden = false;
    form.onsubmit = (event) => {
      event.preventDefault();
      localStorage.setItem(KEY, form.elements.token.value.trim());
      location.reload();
    };
  }

  function showError(error) {
    const box = document.getElementById("error");
    if (!box) return;
    box.textContent = error ? String(error.message || error) : "";
    box.hidden = !error;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const child of children) node.append(child);
    return node;
  }

  // Local wall-clock time, like the datetime inputs of the filters.
  function when(ms) {
    if (ms === null || ms === undefined) return "";
    const offset = new Date(ms).getTimezoneOffset() * 60000;
    return new Date(ms - offset).toISOString().replace("T", " ").slice(0, 19);
  }

  function age(ms) {
    if (ms === null || ms === undefined) return "–";
    const s = ms / 1000;
    if (s < 60) return s.toFixed(1) + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + Math.floor(s % 60) + "s";
    return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  }

  function badge(status) { return el("span", { class: "status " + status.toLowerCase(), "data-testid": "status" }, status); }

  function progressBar(pct) {
    const bar = el("div", { class: "progress", "data-testid": "progress" });
    bar.append(el("div", { class: "fill" }));
    bar.append(el("span", {}, pct + "%"));
    bar.firstChild.style.width = pct + "%";
    bar.dataset.value = pct;
    return bar;
  }

  // The pace of the live views: each view's own (1 s for jobs, 2 s for workers, 5 s for
  // schedules) unless localStorage holds sysjobsRefreshMs, an integer from 100 to 60000 —
  // a faster dashboard for a person watching a job, and for the browser tests, which wait
  // on what the next refresh shows. Anything else there is ignored.
  function pace(ms) {
    const chosen = Number(localStorage.getItem(REFRESH_KEY));
    return Number.isInteger(chosen) && chosen >= 100 && chosen <= 60000 ? chosen : ms;
  }

  // Calls fn now and then every ms (or the chosen pace), never overlapping itself; returns
  // a stop function.
  function every(ms, fn) {
    let timer = null, stopped = false;
    const tick = async () => {
      try { await fn(); showError(null); } catch (e) { showError(e); }
      if (!stopped) timer = setTimeout(tick, pace(ms));
    };
    tick();
    return () => { stopped = true; clearTimeout(timer); };
  }

  // A modal question before what cannot be undone (cancel, force stop, stopping many jobs).
  // "Go back" comes first, so Enter or Esc right away changes nothing; resolves true only on
  // the confirm button. Lines name what will change (at most 10, then a count).
  function ask(title, lines, confirmLabel) {
    return new Promise((resolve) => {
      const yes = el("button", { type: "button", class: "danger", "data-testid": "confirm-yes" }, confirmLabel);
      const no = el("button", { type: "button", class: "secondary", "data-testid": "confirm-no" }, "Go back");
      const list = el("ul", {}, ...lines.slice(0, 10).map((line) => el("li", { class: "mono" }, line)));
      if (lines.length > 10) list.append(el("li", {}, "… and " + (lines.length - 10) + " more"));
      const dialog = el("dialog", { class: "confirm", "data-testid": "confirm" },
        el("h2", {}, title), list, el("div", { class: "actions" }, no, yes));
      const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
      yes.addEventListener("click", () => done(true));
      no.addEventListener("click", () => done(false));
      dialog.addEventListener("cancel", (event) => { event.preventDefault(); done(false); });
      document.body.append(dialog);
      dialog.showModal();
      no.focus();
    });
  }

  // Fills the "role" marker so pages can disable what a read-only token may not do, and
  // body[data-scope]: "operator" (admin or read token: every app) or "app" (one app's token).
  async function role() {
    const me = await api("/api/me");
    document.body.dataset.role = me.role;
    document.body.dataset.scope = me.app ? "app" : "operator";
    const marker = document.getElementById("role");
    if (marker) marker.textContent = me.role === "admin" ? "" : "read-only";
    return me.role;
  }

  return { api, app, ask, download, el, when, age, badge, progressBar, every, pace, role, showError, token };
})();
