// The review queue (analysts, supervisors) or the site list (liaisons): filters, sort,
// pages and "assign to me".

import { ApiError, can, get, message, post, query, type Session } from "../api";
import { busy, field, h, heading, link, notice, replace, select, type Notice } from "../dom";
import * as fmt from "../format";
import { path } from "../router";
import type { SiteRow } from "../types";
import { badge, EXPOSURES, exposureBadge, type ViewContext } from "../view";

type SortKey = "priority" | "confidence" | "rate_kg_h" | "last_seen" | "n_detections" | "exposure";

const EXPOSURE_RANK: Record<string, number> = { high: 3, medium: 2, low: 1, unknown: 0 };

interface QueueState {
  status: string;
  minConfidence: string;
  exposure: string;
  mine: boolean;
  unassigned: boolean;
  page: number;
  pageSize: number;
  sort: SortKey;
  descending: boolean;
}

let saved: QueueState | null = null;

function initial(s: Session): QueueState {
  return {
    status: can.review(s) ? "queue" : "confirmed",
    minConfidence: "",
    exposure: "",
    mine: false,
    unassigned: false,
    page: 1,
    pageSize: 25,
    sort: "priority",
    descending: true,
  };
}

let queueTotal: number | null = null;

async function fetchRows(st: QueueState): Promise<SiteRow[]> {
  queueTotal = null;
  if (st.status === "queue") {
    // the queue filters on the server (and says how many sites match)
    const q = query({
      page: st.page,
      page_size: st.pageSize,
      mine: st.mine,
      unassigned: st.unassigned,
      min_confidence: st.minConfidence,
      exposure: st.exposure,
      sort: st.sort,
      order: st.descending ? "desc" : "asc",
    });
    const got = await get<{ sites: SiteRow[]; total: number }>(`/api/sites/queue${q}`);
    queueTotal = got.total;
    return got.sites;
  }
  const q = query({
    status: st.status,
    min_confidence: st.minConfidence,
    limit: st.pageSize,
    offset: (st.page - 1) * st.pageSize,
  });
  return (await get<{ sites: SiteRow[] }>(`/api/sites${q}`)).sites;
}

function sortValue(row: SiteRow, key: SortKey): number {
  if (key === "last_seen") return row.last_seen ? Date.parse(row.last_seen) : 0;
  if (key === "exposure") return row.exposure ? (EXPOSURE_RANK[row.exposure] ?? 0) : -1;
  return (row[key] as number | null) ?? -Infinity;
}

function visible(rows: SiteRow[], st: QueueState): SiteRow[] {
  const min = st.minConfidence === "" ? 0 : Number(st.minConfidence);
  const out = rows.filter(
    (r) =>
      r.confidence >= min &&
      (st.exposure === "" || (st.exposure === "none" ? r.exposure === null : r.exposure === st.exposure)),
  );
  const dir = st.descending ? -1 : 1;
  return out.sort((a, b) => dir * (sortValue(a, st.sort) - sortValue(b, st.sort)) || a.id.localeCompare(b.id));
}

/** Assign a site to the current user; explain a conflict with a reload button. */
export async function assignToMe(
  s: Session,
  site: { id: string; version: number },
  n: Notice,
  reload: () => void,
): Promise<boolean> {
  try {
    await post(`/api/sites/${encodeURIComponent(site.id)}/assign`, { user: s.name, version: site.version });
    n.ok(`Site ${site.id} is now assigned to you.`);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) conflict(n, err, reload);
    else n.error(`Could not assign ${site.id}: ${message(err)}`);
    return false;
  }
}

/** The explanation of a 409: someone else changed the record; offer a reload. */
export function conflict(n: Notice, err: ApiError, reload: () => void): void {
  n.error(
    `Another analyst changed this site since you loaded it, so nothing was saved. Reload to see their change, then decide again. (Server: ${err.detail})`,
    h("button", { type: "button", class: "small", onclick: reload }, "Reload"),
  );
}

export async function renderQueue(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const s = ctx.session;
  const st: QueueState = saved ?? initial(s);
  saved = st;
  const reviewer = can.review(s);
  const n = notice();

  const statusOptions: [string, string][] = [
    ...(reviewer ? ([["queue", "Review queue (priority order)"]] as [string, string][]) : []),
    ["", "All sites"],
    ["candidate", "candidate"],
    ["needs-collection", "needs-collection"],
    ["confirmed", "confirmed"],
    ["rejected", "rejected"],
    ["merged", "merged"],
  ];
  const status = select("status", statusOptions, st.status);
  const minConf = h("input", { name: "min_confidence", type: "number", min: 0, max: 1, step: 0.05, value: st.minConfidence, placeholder: "0–1" });
  const exposure = select("exposure", [...EXPOSURES, ["none", "not assessed"]], st.exposure);
  const mine = h("input", { type: "checkbox", name: "mine", checked: st.mine });
  const unassigned = h("input", { type: "checkbox", name: "unassigned", checked: st.unassigned });
  const pageSize = select("page_size", [["10", "10"], ["25", "25"], ["50", "50"], ["100", "100"]], String(st.pageSize));
  const queueOnly = h(
    "div",
    { class: "inline" },
    h("label", { class: "check" }, mine, " assigned to me"),
    h("label", { class: "check" }, unassigned, " unassigned"),
  );
  const filters = h(
    "form",
    { class: "filters", "aria-label": "Filter sites" },
    field("Status", status),
    field("Min. confidence", minConf),
    field("Exposure", exposure),
    field("Rows per page", pageSize),
    reviewer ? queueOnly : null,
    h("button", { type: "submit" }, "Apply"),
  );
  const body = h("div", { class: "table-wrap" });
  const pager = h("div", { class: "pager" });
  main.append(heading(reviewer ? "Review queue" : "Sites"), n.el, filters, body, pager);

  const syncQueueOnly = () => {
    queueOnly.hidden = status.value !== "queue";
  };
  syncQueueOnly();
  status.addEventListener("change", syncQueueOnly);

  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    st.status = status.value;
    st.minConfidence = minConf.value;
    st.exposure = exposure.value;
    st.mine = mine.checked;
    st.unassigned = unassigned.checked;
    st.pageSize = Number(pageSize.value);
    st.page = 1;
    void load();
  });

  const sortHeader = (label: string, key: SortKey) => {
    const active = st.sort === key;
    return h(
      "th",
      { scope: "col", "aria-sort": active ? (st.descending ? "descending" : "ascending") : "none" },
      h(
        "button",
        {
          type: "button",
          class: "sort",
          onclick: () => {
            st.descending = st.sort === key ? !st.descending : true;
            st.sort = key;
            void load();
          },
        },
        label,
        active ? (st.descending ? " ▼" : " ▲") : "",
      ),
    );
  };

  async function load(): Promise<void> {
    let rows: SiteRow[];
    try {
      rows = await fetchRows(st);
    } catch (err) {
      n.error(`Could not load the sites: ${message(err)}`);
      return;
    }
    const shown = visible(rows, st);
    const tbody = h(
      "tbody",
      null,
      shown.map((r) =>
        h(
          "tr",
          null,
          h("td", null, link(path("site", r.id), r.id)),
          h("td", null, badge(r.status)),
          h("td", { class: "num" }, fmt.num(r.priority, 2)),
          h("td", { class: "num" }, fmt.pct(r.confidence)),
          h("td", { class: "num" }, fmt.rate(r.rate_kg_h, r.rate_lo_kg_h, r.rate_hi_kg_h)),
          h("td", null, exposureBadge(r.exposure)),
          h("td", { class: "num" }, String(r.n_detections)),
          h("td", { class: "num" }, `${r.n_passes_detected} of ${r.n_passes}`),
          h("td", { class: "nowrap" }, fmt.utc(r.last_seen)),
          h("td", null, r.assignee_id === null ? "—" : r.assignee_id === s.id ? "you" : "assigned"),
          h(
            "td",
            null,
            reviewer && r.assignee_id !== s.id && ["candidate", "needs-collection"].includes(r.status)
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "small",
                    onclick: (ev: Event) =>
                      void busy(ev.currentTarget as HTMLButtonElement, async () => {
                        if (await assignToMe(s, r, n, () => void load())) await load();
                      }),
                  },
                  "Assign to me",
                )
              : null,
          ),
        ),
      ),
    );
    if (!shown.length) {
      tbody.append(h("tr", null, h("td", { colspan: 11, class: "empty" }, rows.length ? "No site on this page matches the filters." : "No sites.")));
    }
    replace(
      body,
      h(
        "table",
        { class: "data", id: "sites-table" },
        h("caption", { class: "sr-only" }, "Sites"),
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { scope: "col" }, "Site"),
            h("th", { scope: "col" }, "Status"),
            sortHeader("Priority", "priority"),
            sortHeader("Confidence", "confidence"),
            sortHeader("Rate (interval)", "rate_kg_h"),
            sortHeader("Exposure", "exposure"),
            sortHeader("Detections", "n_detections"),
            h("th", { scope: "col" }, "Passes (plume)"),
            sortHeader("Last seen (UTC)", "last_seen"),
            h("th", { scope: "col" }, "Assigned"),
            h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")),
          ),
        ),
        tbody,
      ),
    );
    replace(
      pager,
      h("button", { type: "button", class: "secondary small", disabled: st.page <= 1, onclick: () => { st.page -= 1; void load(); } }, "← Previous"),
      h(
        "span",
        null,
        queueTotal === null
          ? `Page ${st.page}`
          : `Page ${st.page} of ${Math.max(1, Math.ceil(queueTotal / st.pageSize))} · ${queueTotal} site(s) waiting`,
      ),
      h("button", { type: "button", class: "secondary small", disabled: queueTotal === null ? rows.length < st.pageSize : st.page * st.pageSize >= queueTotal, onclick: () => { st.page += 1; void load(); } }, "Next →"),
    );
  }
  await load();
}
