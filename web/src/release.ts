// A lead as the partner receives it (release preview, released record, partner view).

import { download, message } from "./api";
import { facts, h, table, type Notice } from "./dom";
import * as fmt from "./format";
import type { ReleasableLead, Redaction } from "./types";
import { tlp } from "./view";

export const EXPORTS: [string, string, string][] = [
  ["stix", "STIX 2.1", "stix.json"],
  ["geojson", "GeoJSON", "geojson"],
  ["kml", "KML", "kml"],
  ["cot", "Cursor-on-Target", "cot.xml"],
];

/** Export buttons: each downloads `${base}?format=...` with the token. */
export function exportButtons(base: string, leadId: string, n: Notice): HTMLElement {
  return h(
    "div",
    { class: "buttons exports", role: "group", "aria-label": "Exports" },
    h("span", { class: "muted" }, "Download:"),
    EXPORTS.map(([format, label, ext]) =>
      h(
        "button",
        {
          type: "button",
          class: "secondary small",
          "data-format": format,
          onclick: () =>
            download(`${base}?format=${format}`, `${leadId}.${ext}`)
              .then(() => n.ok(`${label} export downloaded.`))
              .catch((err: unknown) => n.error(`The ${label} export failed: ${message(err)}`)),
        },
        label,
      ),
    ),
  );
}

/** The releasable content: title with its TLP label, summary, action and each site. */
export function releasedContent(lead: ReleasableLead): HTMLElement {
  return h(
    "article",
    { class: "released-lead" },
    h("div", { class: "lead-title" }, tlp(lead.tlp, true), h("h3", null, lead.title)),
    h("p", { class: "small muted" }, `From ${lead.producer} to ${lead.partner_name}${lead.released ? `, released ${fmt.time(lead.released)}` : " (not released yet)"}`),
    lead.summary ? h("p", null, lead.summary) : null,
    h("div", { class: "recommended" }, h("strong", null, "Recommended action: "), lead.recommended_action),
    lead.sites.map((s, i) =>
      h(
        "section",
        { class: "released-site" },
        h("h4", null, `Location ${i + 1}`),
        facts([
          ["Position", `${fmt.latlon(s.lat, s.lon)} ± ${fmt.metres(s.uncertainty_m)}`],
          ["Observed", s.observed],
          ["Seen", `${fmt.date(s.first_seen)} → ${fmt.date(s.last_seen)} (${s.n_observations} observation(s))`],
          ["Estimated emission", s.rate_lo_kg_h === null ? "—" : `${fmt.num(s.rate_lo_kg_h, 0)}–${fmt.num(s.rate_hi_kg_h, 0)} kg/h`],
          ["Exposure", s.exposure ?? "not assessed"],
        ]),
        h(
          "div",
          { class: "advisory-box" },
          h("strong", null, "Advisory: "),
          s.advisory ?? "No civilian context was assessed. Clandestine labs are often inside homes: plan for residents and bystanders (toxic vapours, fire and explosion risk).",
        ),
      ),
    ),
  );
}

/** What redaction removed, by category. */
export function redactionTable(r: Redaction | null): HTMLElement {
  if (!r) return h("p", { class: "muted" }, "No redaction record.");
  const rows = [
    ...Object.entries(r.withheld).map(([k, v]) => [k, "withheld", String(v)]),
    ...Object.entries(r.scrubbed).map(([k, v]) => [k, "scrubbed from text", String(v)]),
  ];
  const total = rows.reduce((sum, row) => sum + Number(row[2]), 0);
  return h(
    "div",
    { class: "redaction" },
    h("p", null, `${total} item(s) kept home by the release policy.`),
    table(["Category", "How", "Count"], rows, { id: "redaction-table" }),
  );
}
