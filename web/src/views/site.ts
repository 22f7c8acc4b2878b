// One site's dossier: summary, civilian context, actions, evidence timeline, images,
// organizations, reviews and activity, attachments.

import { ApiError, blob, can, download, get, message, post } from "../api";
import { busy, facts, field, h, heading, link, notice, replace, svg, table, type Child, type Notice } from "../dom";
import * as fmt from "../format";
import { path } from "../router";
import type { OrganizationDetail, SiteDetail } from "../types";
import { badge, exposureBadge, type ViewContext } from "../view";
import { assignToMe, conflict } from "./queue";

const DECISIONS: [string, string][] = [
  ["confirm", "Confirm"],
  ["reject", "Reject"],
  ["needs-collection", "Request collection"],
  ["note", "Add note"],
];

export async function renderSite(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const id = ctx.params[0] ?? "";
  const n = notice();
  const content = h("div", { class: "dossier" });
  main.append(n.el, content);
  const urls: string[] = [];
  ctx.cleanup(() => urls.forEach((u) => URL.revokeObjectURL(u)));

  async function load(): Promise<void> {
    let site: SiteDetail;
    let trail: AuditEvent[] | null = null;
    try {
      site = await get<SiteDetail>(`/api/sites/${encodeURIComponent(id)}`);
    } catch (err) {
      n.error(`Could not load site ${id}: ${message(err)}`);
      return;
    }
    try {
      const q = `entity=site&entity_id=${encodeURIComponent(site.id)}`;
      trail = (await get<{ events: AuditEvent[] }>(`/api/audit/events?${q}`)).events;
    } catch {
      trail = null; // roles without the audit trail see the activity rebuilt from the site
    }
    replace(
      content,
      header(site),
      h(
        "div",
        { class: "grid-2" },
        h("div", null, summary(site), contextBox(site)),
        h("div", null, can.review(ctx.session) ? actions(site) : null, organizations(site)),
      ),
      timeline(site),
      images(site, urls),
      history(site, trail),
      attachments(site, can.review(ctx.session), async (text) => {
        await load();
        n.ok(text);
      }),
    );
  }

  const reload = () => {
    n.clear();
    void load();
  };

  function header(site: SiteDetail): HTMLElement {
    const mine = site.assignments.find((a) => a.active);
    return h(
      "div",
      null,
      heading(
        `Site ${site.id}`,
        badge(site.status),
        can.review(ctx.session) && mine?.user !== ctx.session.name && !site.merged_into
          ? h(
              "button",
              {
                type: "button",
                class: "secondary",
                onclick: (ev: Event) =>
                  void busy(ev.currentTarget as HTMLButtonElement, async () => {
                    if (await assignToMe(ctx.session, site, n, reload)) await load();
                  }),
              },
              "Assign to me",
            )
          : null,
        h("button", { type: "button", class: "secondary", onclick: reload }, "Reload"),
      ),
      h(
        "p",
        { class: "muted" },
        link(path("map", site.lat.toFixed(5), site.lon.toFixed(5), "16"), "Show on the map"),
        ` · Version ${site.version} · assigned to ${mine ? mine.user : "nobody"}`,
        site.merged_into ? [" · merged into ", link(path("site", site.merged_into), site.merged_into)] : null,
      ),
    );
  }

  function actions(site: SiteDetail): HTMLElement {
    const note = h("textarea", { name: "note", rows: 3, placeholder: "Reasons, what you checked, what is missing…" });
    const radius = h("input", { name: "radius_m", type: "number", min: 1, max: 100000, step: 1, placeholder: "optional" });
    const local = notice();
    const buttons = DECISIONS.map(([decision, label]) =>
      h(
        "button",
        {
          type: "button",
          class: decision === "confirm" ? "" : decision === "reject" ? "danger" : "secondary",
          "data-decision": decision,
          onclick: (ev: Event) =>
            void busy(ev.currentTarget as HTMLButtonElement, () => decide(site, decision, note.value, radius.value, local)),
        },
        label,
      ),
    );
    return h(
      "section",
      { class: "card", "aria-labelledby": "actions-h" },
      h("h2", { id: "actions-h" }, "Decision"),
      local.el,
      field("Note", note),
      field("Collection radius (m)", radius, "Only for a collection request"),
      h("div", { class: "buttons" }, buttons),
    );
  }

  async function decide(site: SiteDetail, decision: string, note: string, radius: string, local: Notice): Promise<void> {
    const body: Record<string, unknown> = { decision, note };
    if (decision !== "note") body.version = site.version;
    if (decision === "needs-collection" && radius) body.radius_m = Number(radius);
    try {
      const r = await post<{ status: string; version: number }>(`/api/sites/${encodeURIComponent(site.id)}/reviews`, body);
      const done =
        decision === "note" ? "Note added." : `Decision saved: the site is now ${r.status} (version ${r.version}).`;
      await load();
      n.ok(done);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) conflict(local, err, reload);
      else local.error(`The decision was not saved: ${message(err)}`);
    }
  }

  function organizations(site: SiteDetail): HTMLElement {
    const box = h("div", null, site.attributions.length ? "Loading designations…" : "No organization is tied to this site.");
    if (site.attributions.length) {
      void Promise.all(
        site.attributions.map((a) => get<OrganizationDetail>(`/api/organizations/${encodeURIComponent(a.organization_id)}`).catch(() => null)),
      ).then((orgs) => {
        replace(
          box,
          table(
            ["Organization", "Attribution", "Basis", "Designations"],
            site.attributions.map((a, i) => [
              link(path("org", a.organization_id), a.organization),
              fmt.pct(a.confidence),
              a.basis || "—",
              orgs[i]?.designations.length
                ? h("ul", { class: "plain" }, orgs[i]!.designations.map((d) => h("li", null, `${d.designation} (${d.authority}, ${d.date})`)))
                : "none",
            ]),
          ),
        );
      });
    }
    return h("section", { class: "card" }, h("h2", null, "Organizations"), box);
  }

  await load();
}

function summary(site: SiteDetail): HTMLElement {
  return h(
    "section",
    { class: "card", "aria-labelledby": "summary-h" },
    h("h2", { id: "summary-h" }, "Summary"),
    facts([
      ["Position", `${fmt.latlon(site.lat, site.lon)} ± ${fmt.metres(site.uncertainty_m)} (1σ)`],
      ["Confidence", h("strong", null, fmt.pct(site.confidence))],
      ["Emission rate", fmt.rate(site.rate_kg_h, site.rate_lo_kg_h, site.rate_hi_kg_h)],
      ["Review priority", fmt.num(site.priority, 2)],
      ["Seen", `${fmt.time(site.first_seen)} → ${fmt.time(site.last_seen)}`],
      ["Detections", `${site.n_detections} detection(s), ${site.n_reports} report(s)`],
      ["Passes", `${site.n_passes_detected} of ${site.n_passes} pass(es) saw a plume`],
    ]),
  );
}

function contextBox(site: SiteDetail): HTMLElement {
  const c = site.context;
  const warn = h(
    "p",
    { class: "advisory-lead" },
    "Clandestine labs are often inside homes. Plan any ground response for residents, bystanders and responders: toxic vapours, fire and explosion risk.",
  );
  if (!c) {
    return h(
      "section",
      { class: "card advisory exposure-unknown", "aria-labelledby": "ctx-h" },
      h("h2", { id: "ctx-h" }, "Civilian context"),
      warn,
      h("p", null, "No civilian context has been computed for this site (no population or building layer covers it yet). Treat it as possibly inside a home."),
    );
  }
  return h(
    "section",
    { class: `card advisory exposure-${c.exposure}`, "aria-labelledby": "ctx-h" },
    h("h2", { id: "ctx-h" }, "Civilian context · exposure ", exposureBadge(c.exposure)),
    warn,
    h("p", { class: "advisory-text" }, c.advisory),
    facts([
      ["People within 100 m", c.people_100m === null ? "unknown" : c.people_100m.toFixed(0)],
      ["People within 500 m", c.people_500m === null ? "unknown" : c.people_500m.toFixed(0)],
      ["Inside a building", fmt.yesno(c.in_building)],
      ["Residential building", fmt.yesno(c.residential)],
      ["Nearest building", fmt.metres(c.building_distance_m)],
      ["Nearest school", fmt.metres(c.nearest_school_m)],
      ["Nearest hospital", fmt.metres(c.nearest_hospital_m)],
    ]),
  );
}

interface Moment {
  time: string;
  kind: "detection" | "pass" | "report";
  text: string;
  flight?: string;
}

function moments(site: SiteDetail): Moment[] {
  const out: Moment[] = [
    ...site.detections.map((d): Moment => ({
      time: d.time,
      kind: "detection",
      flight: d.flight_id,
      text: `${d.kind} (${d.gas}) · ${fmt.rate(d.rate_kg_h, d.rate_lo_kg_h, d.rate_hi_kg_h)} · ±${fmt.metres(d.uncertainty_m)}${d.score === null ? "" : ` · score ${d.score.toFixed(2)}`}`,
    })),
    ...site.passes.map((p): Moment => ({
      time: p.time,
      kind: "pass",
      flight: p.flight_id,
      text: p.detected ? "overflight: plume detected" : "overflight: nothing detected",
    })),
    ...site.reports
      .filter((r) => r.time)
      .map((r): Moment => ({
        time: r.time!,
        kind: "report",
        text: `report (${r.source_reliability ?? "?"}${r.credibility ?? ""}): ${r.text}`,
      })),
  ];
  return out.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

function timeline(site: SiteDetail): HTMLElement {
  const ms = moments(site);
  const strip = timelineStrip(ms);
  return h(
    "section",
    { class: "card", "aria-labelledby": "tl-h" },
    h("h2", { id: "tl-h" }, "Evidence timeline"),
    strip,
    table(
      ["Time", "Kind", "Flight", "What"],
      ms.map((m) => [fmt.time(m.time), h("span", { class: `kind kind-${m.kind}` }, m.kind), m.flight ?? "—", m.text]),
      { id: "timeline-table" },
    ),
  );
}

function timelineStrip(ms: Moment[]): Child {
  if (!ms.length) return null;
  const t0 = Date.parse(ms[0]!.time);
  const t1 = Date.parse(ms[ms.length - 1]!.time);
  const span = Math.max(t1 - t0, 1);
  const W = 600;
  const rows: Record<Moment["kind"], number> = { detection: 14, pass: 32, report: 50 };
  return svg(
    "svg",
    { viewBox: `0 0 ${W + 100} 64`, class: "strip", role: "img", "aria-label": `${ms.length} evidence items from ${fmt.time(ms[0]!.time)} to ${fmt.time(ms[ms.length - 1]!.time)}` },
    Object.entries(rows).map(([k, y]) => svg("text", { x: 0, y: y + 4, class: "strip-label" }, k)),
    svg("line", { x1: 90, x2: W + 90, y1: 60, y2: 60, class: "strip-axis" }),
    ms.map((m) =>
      svg(
        "circle",
        { cx: 90 + (ms.length === 1 ? W / 2 : ((Date.parse(m.time) - t0) / span) * W), cy: rows[m.kind], r: 5, class: `dot dot-${m.kind}` },
        svg("title", null, `${fmt.time(m.time)} ${m.kind}: ${m.text}`),
      ),
    ),
  );
}

function images(site: SiteDetail, urls: string[]): Child {
  // plume overlays (the enhancement cut to each plume's outline) first, then attached images
  const plumes = site.detections
    .filter((d) => d.has_image)
    .map((d) => ({
      path: `/api/detections/${d.id}/image`,
      caption: `plume ${d.flight_id}, ${fmt.date(d.time)}, ${fmt.rate(d.rate_kg_h, d.rate_lo_kg_h, d.rate_hi_kg_h)}`,
      kind: "chip plume-chip",
    }));
  const pics = site.attachments
    .filter((a) => a.media_type.startsWith("image/"))
    .map((a) => ({ path: `/api/attachments/${a.sha256}`, caption: a.filename, kind: "chip" }));
  const all = [...plumes, ...pics];
  if (!all.length) return null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "img-h" },
    h("h2", { id: "img-h" }, "Images"),
    h(
      "div",
      { class: "chips" },
      all.map((pic) => {
        const img = h("img", { alt: pic.caption, loading: "lazy" });
        blob(pic.path)
          .then((b) => {
            const u = URL.createObjectURL(b);
            urls.push(u);
            img.src = u;
          })
          .catch(() => img.replaceWith(h("span", { class: "muted" }, "image unavailable")));
        return h("figure", { class: pic.kind }, img, h("figcaption", null, pic.caption));
      }),
    ),
  );
}

interface AuditEvent {
  seq: number;
  time: string;
  actor: string;
  action: string;
  after: Record<string, unknown> | null;
  hash: string;
}

function summarise(after: Record<string, unknown> | null): string {
  if (!after) return "";
  return Object.entries(after)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join("; ");
}

function history(site: SiteDetail, trail: AuditEvent[] | null): HTMLElement {
  const activity = [
    ...site.reviews.map((r) => ({ time: r.time, who: r.user, what: `review: ${r.decision}${r.note ? ` — ${r.note}` : ""}` })),
    ...site.assignments.map((a) => ({ time: a.time, who: a.user, what: `assigned${a.active ? " (current)" : ""}` })),
    ...site.attachments.map((a) => ({ time: a.time, who: "", what: `attachment ${a.filename} (${fmt.bytes(a.size)})` })),
    ...site.collection_requests.map((c) => ({ time: c.time, who: "", what: `collection request ${c.status}${c.radius_m ? `, radius ${fmt.metres(c.radius_m)}` : ""}${c.note ? ` — ${c.note}` : ""}` })),
    ...site.evidence.map((e) => ({ time: e.time, who: "fusion", what: `${e.kind} ${e.evidence_id} linked: ${e.reason}` })),
    { time: site.created, who: "fusion", what: "site created" },
  ].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  return h(
    "section",
    { class: "grid-2" },
    h(
      "div",
      { class: "card", "aria-labelledby": "rev-h" },
      h("h2", { id: "rev-h" }, "Review history"),
      table(
        ["Time", "Analyst", "Decision", "Note"],
        site.reviews.map((r) => [fmt.time(r.time), r.user, badge(r.decision), r.note || "—"]),
        { id: "reviews-table" },
      ),
    ),
    h(
      "div",
      { class: "card", "aria-labelledby": "act-h" },
      trail
        ? h("h2", { id: "act-h" }, "Audit trail (hash-chained log)")
        : h("h2", { id: "act-h" }, "Activity on this site"),
      trail
        ? table(
            ["#", "Time", "By", "Action", "Details"],
            trail.map((e) => [String(e.seq), fmt.time(e.time), e.actor, e.action, summarise(e.after)]),
            { id: "audit-trail" },
          )
        : table(["Time", "By", "What"], activity.map((a) => [fmt.time(a.time), a.who || "—", a.what])),
    ),
  );
}

function attachments(site: SiteDetail, allowed: boolean, uploaded: (text: string) => Promise<void>): HTMLElement {
  const file = h("input", { type: "file", name: "file", required: true });
  const local = notice();
  const submit = h("button", { type: "submit" }, "Upload");
  const form = h("form", { class: "inline", "aria-label": "Upload evidence" }, field("Evidence file (≤ 50 MB)", file), submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      local.error("Choose a file first.");
      return;
    }
    const data = new FormData();
    data.append("file", chosen, chosen.name);
    void busy(submit, async () => {
      try {
        await post(`/api/sites/${encodeURIComponent(site.id)}/attachments`, data);
        await uploaded(`Uploaded ${chosen.name} to site ${site.id}.`);
      } catch (err) {
        local.error(`The upload failed: ${message(err)}`);
      }
    });
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "att-h" },
    h("h2", { id: "att-h" }, "Attachments"),
    table(
      ["File", "Type", "Size", "Added"],
      site.attachments.map((a) => [
        h("button", { type: "button", class: "linklike", onclick: () => void download(`/api/attachments/${a.sha256}`, a.filename).catch(() => undefined) }, a.filename),
        a.media_type,
        fmt.bytes(a.size),
        fmt.time(a.time),
      ]),
    ),
    allowed ? [local.el, form] : null,
  );
}
