// The app's own log (sys.logs): GET /api/app-logs, filtered like a job's log, a page at a
// time ("Load more" follows the reply's `next`). Every text goes in as text, never HTML.
"use strict";

(() => {
  const { api, el, when, role, showError } = Sysjobs;
  const form = document.getElementById("app-log-filters");
  const rows = document.getElementById("app-log-rows");
  let last = null;

  function query() {
    const params = new URLSearchParams();
    for (const input of form.elements) {
      if (!input.name || !input.value) continue;
      const isTime = input.name === "from" || input.name === "to";
      params.set(input.name, isTime ? String(new Date(input.value).getTime()) : input.value.trim());
    }
    if (last) params.set("after", last);
    return params;
  }

  function exceptionText(info) {
    if (info === null || info === undefined) return "";
    if (typeof info === "object" && typeof info.stack === "string") return info.stack;
    return JSON.stringify(info);
  }

  function row(entry) {
    const job = entry.jobId ? el("a", { href: "/jobs/" + encodeURIComponent(entry.jobId), class: "mono" }, entry.jobId) : "";
    return el("tr", { "data-testid": "app-log-row" }, el("td", { class: "mono" }, when(entry.timestamp)),
      el("td", { class: "level-" + entry.level }, entry.level), el("td", {}, entry.message),
      el("td", {}, el("pre", {}, exceptionText(entry.additionalInfo))), el("td", {}, job));
  }

  async function read(reset) {
    if (reset) { last = null; rows.replaceChildren(); }
    const page = await api("/api/app-logs?" + query().toString());
    rows.append(...page.logs.map(row));
    if (page.next) last = page.next;
    document.getElementById("app-log-more").hidden = !page.more;
    document.getElementById("app-log-count").textContent = rows.children.length + " of " + page.count + " lines";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    read(true).then(() => showError(null), showError);
  });
  document.getElementById("app-log-more").addEventListener("click", () => {
    read(false).then(() => showError(null), showError);
  });
  role().catch(() => {});
  read(true).catch(showError);
})();
