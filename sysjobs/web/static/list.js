// The jobs list: search by id or label, filters (the spec's find parameters) kept in the
// page's query string, keyset pages (the API's `next` goes back as `after`), queue
// statistics, charts, and rows whose status and progress refresh every second. Rows can be
// selected for bulk stop, cancel or low priority; stop and cancel ask first.
"use strict";

(() => {
  const { api, ask, el, when, age, badge, progressBar, every, role, showError } = Sysjobs;
  const form = document.getElementById("filters");
  const search = document.getElementById("search");
  const TIMES = ["createFrom", "createTo", "startFrom", "startTo", "endFrom", "endTo"];
  const JOB_ID = /^[0-9a-f]{24}$/;
  const COLUMNS = ["", "ID", "Type", "Label", "Status", "Progress", "Created", "Duration", "Errors"];
  const VERBS = {
    stop: { path: "stop", done: "stopped", ask: (n) => ["Stop " + n + " jobs? They can be resumed later.", "Yes, stop " + n + " jobs"] },
    cancel: { path: "cancel", done: "canceled", ask: (n) => ["Cancel " + n + " jobs? This cannot be undone.", "Yes, cancel " + n + " jobs"] },
    "low-priority": { path: "low-priority", done: "set to low priority", body: { lowPriority: true } },
  };
  let cursors = [null];  // the `after` of each page read so far; the last is the current one
  let shown = { jobs: [], next: null };
  const selected = new Map();  // id -> job, kept across refreshes and pages
  let canWrite = false;

  // datetime-local values are local wall-clock times; the API wants milliseconds.
  function toMs(value) { return value ? String(new Date(value).getTime()) : ""; }
  function fromMs(ms) {
    const d = new Date(Number(ms));
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
  }

  function fillForm() {
    const params = new URLSearchParams(location.search);
    for (const [name, value] of params) {
      if (name === "q") { search.elements.q.value = value; continue; }
      const input = form.elements[name];
      if (input) input.value = TIMES.includes(name) ? fromMs(value) : value;
    }
  }

  function query() {
    const params = new URLSearchParams();
    for (const input of form.elements) {
      if (!input.name || !input.value) continue;
      params.set(input.name, TIMES.includes(input.name) ? toMs(input.value) : input.value.trim());
    }
    return params;
  }

  function searchText() { return search.elements.q.value.trim(); }

  function restart(urlQuery) {
    history.replaceState(null, "", urlQuery ? "?" + urlQuery : location.pathname);
    cursors = [null];
    document.getElementById("filter-box").classList.toggle("off", searchText() !== "");
    refresh();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search.elements.q.value = "";
    restart(query().toString());
  });
  form.addEventListener("reset", () => setTimeout(() => restart("")));
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = searchText();
    restart(q ? new URLSearchParams({ q }).toString() : query().toString());
  });
  search.addEventListener("reset", () => setTimeout(() => restart(query().toString())));

  function cell(n, ...children) { return el("td", { "data-label": COLUMNS[n] }, ...children); }

  function row(job) {
    const check = el("input", { type: "checkbox", class: "pick", checked: selected.has(job.id) });
    check.setAttribute("aria-label", "Select job " + job.id);
    check.addEventListener("change", () => {
      if (check.checked) selected.set(job.id, job); else selected.delete(job.id);
      updateBulk();
    });
    const link = el("a", { href: "/jobs/" + job.id, class: "mono" }, job.id);
    return el("tr", { class: "job", "data-id": job.id, "data-testid": "job-row" },
      el("td", { class: "col-check" }, check), cell(1, link), cell(2, job.type),
      cell(3, job.label || ""), cell(4, badge(job.status)), cell(5, progressBar(job.progress)),
      cell(6, el("span", { class: "mono" }, when(job.createdAt))), cell(7, age(job.durationMs)),
      cell(8, job.hasErrors ? "yes" : ""));
  }

  // A 24-hex search is a job id: that job alone (or none); any other text searches labels.
  async function readPage() {
    const q = searchText();
    if (JOB_ID.test(q)) {
      try {
        return { count: 1, jobs: [await api("/api/jobs/" + q)], next: null };
      } catch (e) {
        if (e.status === 404) return { count: 0, jobs: [], next: null };
        throw e;
      }
    }
    const params = q ? new URLSearchParams({ label: q }) : query();
    params.set("_size", form.elements._size.value || "50");
    const after = cursors[cursors.length - 1];
    if (after) params.set("after", after);
    return api("/api/jobs?" + params.toString());
  }

  // A read started before a page move or a new search must not paint over the newer one
  // (nor leave its `next` behind): only the latest read renders.
  let reads = 0;
  async function refreshJobs() {
    const read = ++reads;
    const page = await readPage();
    if (read !== reads) return;
    shown = page;
    for (const job of shown.jobs) if (selected.has(job.id)) selected.set(job.id, job);
    document.getElementById("rows").replaceChildren(...shown.jobs.map(row));
    const what = searchText() ? " found" : "";
    document.getElementById("count").textContent = shown.jobs.length + " of " + shown.count + " jobs" + what;
    document.getElementById("page").textContent = "page " + cursors.length;
    document.getElementById("page-next").disabled = !shown.next;
    document.getElementById("page-prev").disabled = cursors.length < 2;
    document.getElementById("page-first").disabled = cursors.length < 2;
    const all = document.getElementById("select-all");
    all.checked = shown.jobs.length > 0 && shown.jobs.every((j) => selected.has(j.id));
    updateBulk();
  }

  function page(move) {
    if (move === "next" && shown.next) cursors.push(shown.next);
    if (move === "prev" && cursors.length > 1) cursors.pop();
    if (move === "first") cursors = [null];
    refreshJobs().catch(showError);
  }
  document.getElementById("page-next").addEventListener("click", () => page("next"));
  document.getElementById("page-prev").addEventListener("click", () => page("prev"));
  document.getElementById("page-first").addEventListener("click", () => page("first"));

  document.getElementById("select-all").addEventListener("change", (event) => {
    for (const job of shown.jobs) {
      if (event.target.checked) selected.set(job.id, job); else selected.delete(job.id);
    }
    for (const box of document.querySelectorAll("#rows input.pick")) box.checked = event.target.checked;
    updateBulk();
  });

  function updateBulk() {
    document.getElementById("selected").textContent = selected.size + " selected";
    for (const verb of Object.keys(VERBS)) {
      document.getElementById("bulk-" + verb).disabled = !canWrite || selected.size === 0;
    }
  }

  // One request per job, one after another (a few hundred at most: what a page shows);
  // a job the state machine refuses is reported by id with the API's message.
  async function bulk(verb) {
    const spec = VERBS[verb];
    const jobs = [...selected.values()];
    if (spec.ask) {
      const [title, yes] = spec.ask(jobs.length);
      if (!await ask(title, jobs.map((j) => j.id + " · " + (j.label || j.type)), yes)) return;
    }
    const failed = [];
    for (const job of jobs) {
      try {
        await api("/api/jobs/" + job.id + "/" + spec.path, { method: "POST", body: spec.body || {} });
        selected.delete(job.id);
      } catch (e) { failed.push(job.id + ": " + e.message); }
    }
    const box = document.getElementById("bulk-result");
    box.textContent = (jobs.length - failed.length) + " " + spec.done + (failed.length ? "; not changed: " + failed.join("; ") : "");
    box.hidden = false;
    await refreshJobs();
  }
  for (const verb of Object.keys(VERBS)) {
    document.getElementById("bulk-" + verb).addEventListener("click", () => bulk(verb).catch(showError));
  }

  async function refreshStats() {
    const s = await api("/api/stats");
    const set = (id, text) => { document.getElementById(id).textContent = text; };
    set("st-pending", s.pending);
    set("st-oldest", age(s.oldestPendingAgeMs));
    set("st-running", s.running);
    set("st-throughput", s.throughputPerMin.toFixed(2));
    set("st-finished", s.finishedInWindow);
    set("st-lost", s.lostLeasesInWindow + " / " + s.lostLeasesTotal);
    document.getElementById("queues").replaceChildren(...s.queues.map((q) => el("tr", {},
      el("td", {}, q.queue), el("td", {}, String(q.pending)),
      el("td", {}, age(q.oldestPendingAgeMs)), el("td", {}, String(q.running)))));
  }

  // Charts move by the minute: a read every 10 s is plenty.
  let ticks = 0;
  async function refresh() {
    const charts = ticks++ % 10 === 0 ? [Charts.refresh(api)] : [];
    await Promise.all([refreshJobs(), refreshStats(), ...charts]);
  }

  fillForm();
  document.getElementById("filter-box").classList.toggle("off", searchText() !== "");
  if (matchMedia("(max-width: 700px)").matches) document.getElementById("filter-box").open = false;
  role().then((r) => { canWrite = r === "admin"; updateBulk(); }).catch(() => {});
  every(1000, refresh);
})();
