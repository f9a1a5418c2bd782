// The script console: run now (log lines, completion value or error) or as a RUN_SCRIPT
// job, whose log and status are then followed here until it ends.
"use strict";

(() => {
  const { api, el, pace, role, showError } = Sysjobs;
  const form = document.getElementById("script");
  const output = document.getElementById("output");
  const outcome = document.getElementById("outcome");
  const ENDED = ["FINISHED", "STOPPED", "CANCELED"];

  function showRun(result) {
    const lines = [...result.logs];
    if (result.error) lines.push((result.error.code || result.error.name) + ": " + result.error.message);
    else lines.push("⇒ " + JSON.stringify(result.value));
    output.textContent = lines.join("\n");
    outcome.textContent = "· " + result.outcome;
  }

  async function follow(job) {
    const link = el("a", { href: "/jobs/" + job.id }, job.id);
    outcome.replaceChildren("· job ", link, " ", el("span", { id: "job-status" }, job.status));
    const lines = [];
    let after = null;
    for (;;) {
      const current = await api("/api/jobs/" + job.id);
      let page = null;
      do {  // the API pages the log: read every page there is now
        page = await api("/api/jobs/" + job.id + "/logs" + (after ? "?after=" + encodeURIComponent(after) : ""));
        for (const entry of page.logs) lines.push(entry.message);
        if (page.next) after = page.next;
      } while (page.more);
      output.textContent = lines.join("\n");
      document.getElementById("job-status").textContent = current.status;
      if (ENDED.includes(current.status)) return;
      await new Promise((resolve) => setTimeout(resolve, pace(700)));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = document.getElementById("run");
    button.disabled = true;
    output.textContent = "running…";
    outcome.textContent = "";
    try {
      const reply = await api("/api/scripts", { method: "POST", body: {
        source: form.elements.source.value, inJob: form.elements.inJob.checked,
        timeoutS: Number(form.elements.timeoutS.value), label: form.elements.label.value,
      } });
      showError(null);
      if (reply.job) await follow(reply.job); else showRun(reply.result);
    } catch (e) {
      output.textContent = "";
      showError(e);
    } finally {
      button.disabled = document.body.dataset.role !== "admin";
    }
  });

  role().then((r) => { document.getElementById("run").disabled = r !== "admin"; }).catch(() => {});
})();
