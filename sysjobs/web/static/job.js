// One job: live status and progress, buttons enabled by the state machine (the API's
// `actions`), data without private inputs, results, transitions and a followable log.
"use strict";

(() => {
  const { api, ask, download, el, when, age, badge, progressBar, every, role, showError } = Sysjobs;
  // Verbs that cannot be undone ask first (a stopped job can be resumed; a canceled one not).
  const ASK = {
    cancel: ["Cancel this job?", "Yes, cancel it"],
    "force-stop": ["Force stop this job? Its handler is interrupted where it is.", "Yes, force stop"],
  };
  const jobId = location.pathname.split("/").pop();
  const ENDED = new Set(["FINISHED", "CANCELED"]);
  const TREE_VERBS = new Set(["stop", "resume", "cancel"]);
  const logForm = document.getElementById("log-filters");
  let canWrite = false;
  let job = null;
  let last = null;  // the reply's `next`: the position after the last line shown
  const PAGES_PER_READ = 10;  // pages read at once while following a long log

  function fields(j) {
    const rows = [
      ["id", j.id], ["type", j.type], ["queue", j.queue], ["created", when(j.createdAt)],
      ["started", when(j.startedAt)], ["ended", when(j.endedAt)], ["waiting", age(j.waitingMs)],
      ["duration", age(j.durationMs)], ["has errors", j.hasErrors ? "yes" : "no"],
      ["run by", j.runBy ? j.runBy.name || j.runBy.id : ""],
    ];
    return rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: "mono" }, String(v))]);
  }

  // A link to another job of the tree (its label, else its id), or "none".
  function jobLink(ref, testid) {
    if (!ref) return el("span", { class: "muted", "data-testid": testid }, "none (a root job)");
    return el("a", { href: "/jobs/" + ref.id, "data-testid": testid }, ref.label || ref.id);
  }

  function renderTree(j) {
    const rows = [
      ["parent", jobLink(j.parentJob, "parent-link")], ["root", jobLink(j.rootJob, "root-link")],
      ["children", el("span", { "data-testid": "children-counts" },
        j.childrenJobsCount + " (" + j.childrenJobsProcessed + " processed)")],
    ];
    document.getElementById("tree-fields").replaceChildren(
      ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }

  function childRow(c) {
    return el("tr", { "data-testid": "child-row" },
      el("td", {}, el("a", { href: "/jobs/" + c.id, class: "mono" }, c.id)),
      el("td", {}, c.label || c.type), el("td", {}, el("span", { class: "status " + c.status.toLowerCase() }, c.status)), el("td", { class: "mono" }, when(c.createdAt)),
      el("td", {}, String(c.childrenJobsCount)));
  }

  // The newest children, one page (the counts above say how many there are in all).
  async function refreshChildren() {
    const page = await api("/api/jobs/" + jobId + "/children?_size=50");
    document.getElementById("children").replaceChildren(...page.jobs.map(childRow));
    document.getElementById("children-count").textContent = page.count
      ? "Showing the newest " + page.jobs.length + " of " + page.count + " children" : "No children";
  }

  function render(j) {
    document.title = "sysjobs · " + (j.label || j.id);
    document.getElementById("label").textContent = j.label || j.type;
    document.getElementById("badge").replaceChildren(badge(j.status));
    const bar = progressBar(j.progress);
    bar.classList.add("big");
    document.getElementById("bar").replaceChildren(bar);
    document.getElementById("fields").replaceChildren(...fields(j));
    renderTree(j);
    document.getElementById("data").textContent = JSON.stringify(j.data, null, 2);
    document.getElementById("results").textContent = j.results ? JSON.stringify(j.results, null, 2) : "none yet";
    const fileLink = j.results && j.results.fileLink;  // an export: downloaded with the token
    document.getElementById("file").hidden = !fileLink;
    if (fileLink) document.getElementById("file-link").dataset.href = fileLink;
    // An ended job whose children are not all processed still reaches them: stop, resume
    // and cancel act on the jobs below it (docs/jobs-api.md, "The job tree").
    const below = ENDED.has(j.status) && j.childrenJobsCount > j.childrenJobsProcessed;
    for (const button of document.querySelectorAll("button[data-verb]")) {
      const key = button.dataset.verb.replace(/-(\w)/g, (_, c) => c.toUpperCase());
      button.disabled = !canWrite || !(j.actions[key] || (below && TREE_VERBS.has(key)));
    }
    document.getElementById("lp").textContent = j.lowPriority ? "on" : "off";
    document.getElementById("btn-low-priority").disabled = !canWrite || !j.actions.lowPriority;
    document.getElementById("events").replaceChildren(...j.events.map((e) => el("tr", {},
      el("td", { class: "mono" }, when(e.at)), el("td", {}, e.from || ""), el("td", {}, e.to),
      el("td", {}, String(e.attempt)), el("td", {}, e.reason || ""))));
  }

  function logQuery() {
    const params = new URLSearchParams();
    for (const input of logForm.elements) {
      if (!input.name || input.name === "follow" || !input.value) continue;
      const isTime = input.name === "from" || input.name === "to";
      params.set(input.name, isTime ? String(new Date(input.value).getTime()) : input.value.trim());
    }
    if (last) params.set("after", last);
    return params;
  }

  function logRow(entry) {
    return el("tr", { "data-testid": "log-row" }, el("td", { class: "mono" }, when(entry.timestamp)),
      el("td", { class: "level-" + entry.level }, entry.level), el("td", {}, entry.message));
  }

  // Log reads run one after another, so a filter change and a follow tick never interleave.
  let logChain = Promise.resolve();
  function refreshLogs(reset, more) {
    logChain = logChain.then(() => readLogs(reset, more), () => readLogs(reset, more));
    return logChain;
  }

  // One page per request (the API bounds each in lines and bytes); while following, pages
  // are read until none is left, a few per tick; otherwise "Load more" reads the next one.
  async function readLogs(reset, more) {
    const body = document.getElementById("log-rows");
    if (reset) { last = null; body.replaceChildren(); }
    if (!reset && !more && !logForm.elements.follow.checked) return;
    let page = null;
    for (let n = 0; n < PAGES_PER_READ; n++) {
      page = await api("/api/jobs/" + jobId + "/logs?" + logQuery().toString());
      body.append(...page.logs.map(logRow));
      if (page.next) last = page.next;
      if (!page.more || more || !logForm.elements.follow.checked) break;
    }
    document.getElementById("log-more").hidden = !page.more;
    document.getElementById("log-count").textContent = body.children.length + " of " + page.count + " lines";
  }

  async function refresh() {
    job = await api("/api/jobs/" + jobId);
    render(job);
    await refreshChildren();
    await refreshLogs(false);
  }

  async function act(path, body) {
    try {
      job = Object.assign(job, await api(path, { method: "POST", body }));
      render(job);
      showError(null);
    } catch (e) { showError(e); }
  }

  for (const button of document.querySelectorAll("button[data-verb]")) {
    button.addEventListener("click", async () => {
      const verb = button.dataset.verb;
      if (ASK[verb] && !await ask(ASK[verb][0], [(job.label || job.type) + " · " + jobId], ASK[verb][1])) return;
      act("/api/jobs/" + jobId + "/" + verb, {});
    });
  }
  document.getElementById("btn-low-priority").addEventListener("click", () =>
    act("/api/jobs/" + jobId + "/low-priority", { lowPriority: !job.lowPriority }));
  document.getElementById("log-more").addEventListener("click", () => {
    refreshLogs(false, true).catch(showError);
  });
  // A refused download stays on show next to the link (the page's error box is cleared
  // by the next refresh).
  document.getElementById("file-link").addEventListener("click", (event) => {
    event.preventDefault();
    const box = document.getElementById("file-error");
    box.hidden = true;
    download(event.currentTarget.dataset.href).catch((e) => {
      box.textContent = e.message;
      box.hidden = false;
    });
  });
  logForm.addEventListener("submit", (event) => {
    event.preventDefault();
    refreshLogs(true).catch(showError);
  });

  role().then((r) => { canWrite = r === "admin"; if (job) render(job); }).catch(() => {});
  every(1000, refresh);
})();
