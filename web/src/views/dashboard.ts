// Partner-response dashboard: response rate per partner, median days to acknowledgement
// and to action per month (Chart.js), and the overdue leads.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { get, message } from "../api";
import { h, heading, link, notice, table } from "../dom";
import * as fmt from "../format";
import { path } from "../router";
import type { Metrics, Partner } from "../types";
import { badge, type ViewContext } from "../view";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

function chartBox(label: string): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = h("canvas", { role: "img", "aria-label": label });
  return { box: h("div", { class: "chart" }, canvas), canvas };
}

export async function renderDashboard(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const n = notice();
  main.append(heading("Partner response"), n.el);
  let metrics: Metrics;
  let partners: Partner[];
  try {
    [metrics, partners] = await Promise.all([
      get<Metrics>("/api/leads/metrics"),
      get<{ partners: Partner[] }>("/api/partners").then((r) => r.partners),
    ]);
  } catch (err) {
    n.error(`Could not load the metrics: ${message(err)}`);
    return;
  }
  const names = new Map(partners.map((p) => [p.id, p.name]));
  const o = metrics.overall;
  const partnerIds = Object.keys(metrics.partners);
  const months = Object.keys(metrics.months).sort();

  const rateChart = chartBox("Response rate per partner");
  const monthChart = chartBox("Median days to acknowledgement and to action, and response rate, per month of release");
  const overdue = metrics.leads.filter((l) => l.overdue);

  main.append(
    h(
      "div",
      { class: "tiles" },
      tile("Released leads", String(o.released)),
      tile("Response rate", fmt.pct(o.response_rate), "overall-response-rate"),
      tile("Median days to acknowledgement", fmt.days(o.median_days_to_acknowledgement)),
      tile("Median days to action", fmt.days(o.median_days_to_action)),
      tile("Overdue", String(o.overdue)),
    ),
    h(
      "div",
      { class: "grid-2" },
      h("section", { class: "card" }, h("h2", null, "Response rate per partner"), rateChart.box),
      h("section", { class: "card" }, h("h2", null, "Per month of release: median days and response rate"), monthChart.box),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", null, "Per partner"),
      table(
        ["Partner", "Released", "Acknowledged", "Substantive feedback", "Response rate", "Median days to ack.", "Median days to action", "Overdue"],
        partnerIds.map((pid) => {
          const m = metrics.partners[pid]!;
          return [names.get(pid) ?? pid, String(m.released), String(m.acknowledged), String(m.substantive_feedback), fmt.pct(m.response_rate), fmt.days(m.median_days_to_acknowledgement), fmt.days(m.median_days_to_action), String(m.overdue)];
        }),
        { id: "partner-metrics" },
      ),
      h("p", { class: "small muted" }, "Response rate: share of released leads with substantive feedback (dismantled, arrests, nothing found, declined)."),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", null, `Overdue leads (${overdue.length})`),
      table(
        ["Lead", "Partner", "State", "Overdue step", "Released"],
        overdue.map((l) => [link(path("lead", l.id), l.id), names.get(l.partner) ?? l.partner, badge(l.state), badge(l.overdue), fmt.date(l.released)]),
        { id: "overdue-table" },
      ),
    ),
    h("p", { class: "small muted" }, `As of ${fmt.time(metrics.now)}.`),
  );

  const common = { responsive: true, maintainAspectRatio: false, animation: false as const };
  const rate = new Chart(rateChart.canvas, {
    type: "bar",
    data: {
      labels: partnerIds.map((p) => names.get(p) ?? p),
      datasets: [{ label: "Response rate (%)", data: partnerIds.map((p) => (metrics.partners[p]!.response_rate ?? 0) * 100), backgroundColor: "#0072b2" }],
    },
    options: { ...common, scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } } },
  });
  const perMonth = new Chart(monthChart.canvas, {
    type: "bar",
    data: {
      labels: months,
      datasets: [
        { label: "Median days to acknowledgement", data: months.map((m) => metrics.months[m]!.median_days_to_acknowledgement), backgroundColor: "#e69f00" },
        { label: "Median days to action", data: months.map((m) => metrics.months[m]!.median_days_to_action), backgroundColor: "#009e73" },
        {
          type: "line",
          label: "Response rate (%)",
          data: months.map((m) => (metrics.months[m]!.response_rate ?? 0) * 100),
          borderColor: "#0072b2",
          backgroundColor: "#0072b2",
          yAxisID: "rate",
        },
      ],
    },
    options: {
      ...common,
      scales: {
        y: { min: 0, title: { display: true, text: "days" } },
        rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "response rate %" } },
      },
    },
  });
  ctx.cleanup(() => {
    rate.destroy();
    perMonth.destroy();
  });
}

function tile(label: string, value: string, id?: string): HTMLElement {
  return h("div", { class: "tile" }, h("div", { class: "tile-value", id: id ?? null }, value), h("div", { class: "tile-label" }, label));
}
