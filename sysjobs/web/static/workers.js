// The Workers view: the workers registry (GET /api/workers), refreshed every 2 seconds.
// One row per pool of job slots: host, pid, slots, busy slots with links to their jobs,
// queues, apps, start, last heartbeat, and whether it is alive or gone (no heartbeat for a
// few lease periods: it died). The operator's tokens (admin, read) may also look at every
// app's workers; an app's own token sees those serving its app only.
"use strict";

(() => {
  const { api, el, when, age, every, role } = Sysjobs;
  const COLUMNS = ["Host", "PID", "Slots", "Busy", "Current jobs", "Queues", "Apps", "Started", "Last heartbeat", "State"];
  const allApps = document.getElementById("all-apps");

  function cell(index, ...children) {
    return el("td", { "data-label": COLUMNS[index] }, ...children);
  }

  function jobLinks(worker) {
    const links = worker.jobIds.slice(0, 8).map((id) => el("a", { href: "/jobs/" + id, class: "mono" }, id));
    const parts = [];
    links.forEach((link, i) => { if (i) parts.push(" "); parts.push(link); });
    if (worker.busy > links.length) parts.push(" … +" + (worker.busy - links.length));
    return parts;
  }

  function queues(worker) {
    return Object.entries(worker.queues).map(([q, n]) => q + "=" + n).join(", ");
  }

  function row(worker) {
    const state = el("span", { class: "status " + (worker.state === "alive" ? "finished" : "canceled"), "data-testid": "worker-state" }, worker.state);
    const tr = el("tr", { class: "job worker " + worker.state, "data-testid": "worker-row" },
      cell(0, worker.host), cell(1, String(worker.pid)), cell(2, String(worker.slots)),
      cell(3, String(worker.busy)), cell(4, ...jobLinks(worker)), cell(5, queues(worker)),
      cell(6, worker.apps.join(", ")), cell(7, when(worker.startedAt)),
      cell(8, when(worker.lastSeenAt) + " (" + age(worker.lastSeenAgoMs) + " ago)"), cell(9, state));
    tr.dataset.id = worker.id;
    return tr;
  }

  function summary(reply) {
    const alive = reply.workers.filter((w) => w.state === "alive");
    document.getElementById("wk-alive").textContent = alive.length;
    document.getElementById("wk-slots").textContent = alive.reduce((n, w) => n + w.slots, 0);
    document.getElementById("wk-busy").textContent = alive.reduce((n, w) => n + w.busy, 0);
    document.getElementById("wk-gone").textContent = reply.count - alive.length;
    document.getElementById("wk-scope").textContent = (reply.app === "*" ? "Every app's workers" : "Workers serving app " + reply.app)
      + "; a worker is gone after " + reply.goneAfterLeases + " lease periods without a heartbeat.";
  }

  async function refresh() {
    const reply = await api("/api/workers" + (allApps.checked ? "?app=*" : ""));
    summary(reply);
    const body = document.getElementById("worker-rows");
    body.replaceChildren(...reply.workers.map(row));
    if (!reply.workers.length) {
      body.append(el("tr", {}, el("td", { colSpan: COLUMNS.length, class: "muted" }, "No worker has registered.")));
    }
  }

  role().then(() => {
    document.getElementById("all-apps-box").hidden = document.body.dataset.scope !== "operator";
  }).catch(() => {});
  allApps.addEventListener("change", () => refresh().catch(Sysjobs.showError));
  every(2000, refresh);
})();
