// The Schedules view: the app's cron schedules (GET /api/schedules), refreshed every 5
// seconds. One row per schedule: its expression and time zone, what it starts, whether it is
// active, disabled or removed from the manifest, its next run and its last run (the tick, and
// the job it started, linked, with its status now). Times are in the schedule's own zone.
"use strict";

(() => {
  const { api, el, badge, every } = Sysjobs;
  const COLUMNS = ["Name", "Cron", "Time zone", "Starts", "State", "Next run", "Last tick", "Last job"];

  function cell(index, ...children) {
    return el("td", { "data-label": COLUMNS[index] }, ...children);
  }

  // A time in the schedule's zone with its UTC offset, as the CLI writes it (unambiguous
  // when clocks go back): "2027-01-16 02:30 +01:00".
  function zoned(ms, zone) {
    if (ms === null || ms === undefined) return "–";
    try {
      return inZone(ms, zone);
    } catch (e) {  // a zone this browser does not know: UTC, said so
      return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
    }
  }

  function inZone(ms, zone) {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
      minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(ms));
    const part = (type) => Number((parts.find((p) => p.type === type) || {}).value || 0);
    const local = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second"));
    const minutes = Math.round((local - Math.floor(ms / 1000) * 1000) / 60000);
    const pad = (n) => String(n).padStart(2, "0");
    const offset = (minutes < 0 ? "-" : "+") + pad(Math.floor(Math.abs(minutes) / 60)) + ":" + pad(Math.abs(minutes) % 60);
    return `${part("year")}-${pad(part("month"))}-${pad(part("day"))} ${pad(part("hour"))}:${pad(part("minute"))} ${offset}`;
  }

  function lastJob(schedule) {
    if (!schedule.lastJobId) return ["–"];
    const link = el("a", { href: "/jobs/" + schedule.lastJobId, class: "mono" }, schedule.lastJobId);
    return [link, " ", schedule.lastJobStatus ? badge(schedule.lastJobStatus) : el("span", { class: "muted" }, "pruned")];
  }

  function row(schedule) {
    const state = el("span", { class: "status " + ({ active: "finished", disabled: "stopped", removed: "canceled" })[schedule.state], "data-testid": "schedule-state" }, schedule.state);
    const tr = el("tr", { class: "job schedule " + schedule.state, "data-testid": "schedule-row" },
      cell(0, schedule.name), cell(1, el("code", {}, schedule.cron)), cell(2, schedule.timezone),
      cell(3, schedule.target), cell(4, state),
      cell(5, zoned(schedule.nextRunAt, schedule.timezone)),
      cell(6, zoned(schedule.lastTickAt, schedule.timezone)), cell(7, ...lastJob(schedule)));
    tr.dataset.name = schedule.name;
    return tr;
  }

  async function refresh() {
    const reply = await api("/api/schedules");
    document.getElementById("sc-scope").textContent = "Schedules of app " + reply.app + " (" + reply.count + ")";
    const body = document.getElementById("schedule-rows");
    body.replaceChildren(...reply.schedules.map(row));
    if (!reply.schedules.length) {
      body.append(el("tr", {}, el("td", { colSpan: COLUMNS.length, class: "muted" }, "This app's manifest has no schedules.")));
    }
  }

  every(5000, refresh);
})();
