// The jobs list: filters (the spec's find parameters) kept in the page's query string,
// queue statistics, and rows whose status and progress refresh every second.
"use strict";

(() => {
  const { api, el, when, age, badge, progressBar, every, role } = Sysjobs;
  const form = document.getElementById("filters");
  const TIMES = ["createFrom", "createTo", "startFrom", "startTo", "endFrom", "endTo"];

  // datetime-local values are local wall-clock times; the API wants milliseconds.
  function toMs(value) { return value ? String(new Date(value).getTime()) : ""; }
  function fromMs(ms) {
    const d = new Date(Number(ms));
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
  }

  function fillForm() {
    const params = new URLSearchParams(location.search);
    for (const [name, value] of params) {
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

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", "?" + query().toString());
    refresh();
  });
  form.addEventListener("reset", () => setTimeout(() => {
    history.replaceState(null, "", location.pathname);
    refresh();
  }));

  function row(job) {
    const link = el("a", { href: "/jobs/" + job.id, class: "mono" }, job.id);
    return el("tr", { class: "job", "data-id": job.id, "data-testid": "job-row" },
      el("td", {}, link), el("td", {}, job.type), el("td", {}, job.label || ""),
      el("td", {}, badge(job.status)), el("td", {}, progressBar(job.progress)),
      el("td", { class: "mono" }, when(job.createdAt)), el("td", {}, age(job.durationMs)),
      el("td", {}, job.hasErrors ? "yes" : ""));
  }

  async function refreshJobs() {
    const params = query();
    if (!params.has("_size")) params.set("_size", "50");
    const page = await api("/api/jobs?" + params.toString());
    document.getElementById("rows").replaceChildren(...page.jobs.map(row));
    document.getElementById("count").textContent = page.jobs.length + " of " + page.count + " jobs";
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

  async function refresh() { await Promise.all([refreshJobs(), refreshStats()]); }

  fillForm();
  role().catch(() => {});
  every(1000, refresh);
})();
