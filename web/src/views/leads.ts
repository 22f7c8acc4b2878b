// Leads: the list with status and response state, and the draft form.

import { can, get, message, post, query } from "../api";
import { busy, field, h, heading, link, notice, replace, select, table } from "../dom";
import * as fmt from "../format";
import { go, path } from "../router";
import type { LeadDetail, LeadRow, Partner, SiteRow } from "../types";
import { badge, setFlash, TLP_LEVELS, tlp, type ViewContext } from "../view";

let filters = { status: "", partner: "" };

export async function renderLeads(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const n = notice();
  const list = h("div", { class: "table-wrap" });
  const status = select("status", [["", "all"], ["draft", "draft"], ["released", "released"]], filters.status);
  const partnerSel = select("partner", [["", "all partners"]], filters.partner);
  const filterForm = h("form", { class: "filters", "aria-label": "Filter leads" }, field("Status", status), field("Partner", partnerSel), h("button", { type: "submit" }, "Apply"));
  const draftBox = h("div");
  main.append(
    heading("Leads", can.draftLead(ctx.session)
        ? h("button", { type: "button", onclick: () => document.querySelector<HTMLInputElement>("#draft input[name=title]")?.focus() }, "Draft a lead")
        : null),
    n.el,
    filterForm,
    list,
    draftBox,
  );

  let partners: Partner[] = [];
  try {
    partners = (await get<{ partners: Partner[] }>("/api/partners")).partners;
  } catch (err) {
    n.error(`Could not load the partners: ${message(err)}`);
  }
  const names = new Map(partners.map((p) => [p.id, p.name]));
  partnerSel.append(...partners.map((p) => h("option", { value: p.id, selected: p.id === filters.partner }, p.name)));

  async function load(): Promise<void> {
    try {
      const leads = (await get<{ leads: LeadRow[] }>(`/api/leads${query(filters)}`)).leads;
      replace(
        list,
        table(
          ["TLP", "Lead", "Partner", "Status", "Response", "Drafted", "Released", "Outcome"],
          leads.map((l) => [
            tlp(l.tlp),
            link(path("lead", l.id), l.title),
            names.get(l.partner) ?? l.partner,
            badge(l.status),
            badge(l.state),
            `${l.drafted_by}, ${fmt.date(l.drafted)}`,
            fmt.date(l.released),
            l.outcome ?? "—",
          ]),
          { id: "leads-table" },
        ),
      );
    } catch (err) {
      n.error(`Could not load the leads: ${message(err)}`);
    }
  }

  filterForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    filters = { status: status.value, partner: partnerSel.value };
    void load();
  });

  await load();
  if (can.draftLead(ctx.session)) await draftForm(draftBox, partners);
}

async function draftForm(box: HTMLElement, partners: Partner[]): Promise<void> {
  const n = notice();
  let sites: SiteRow[] = [];
  try {
    sites = (await get<{ sites: SiteRow[] }>("/api/sites?status=confirmed&limit=1000")).sites;
  } catch (err) {
    n.error(`Could not load the confirmed sites: ${message(err)}`);
  }
  const partner = select("partner", partners.map((p) => [p.name, `${p.name}${p.country ? ` (${p.country})` : ""}`]), partners[0]?.name ?? "", { required: true });
  const siteBoxes = sites.map((s) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "sites", value: s.id }),
      ` ${s.id} · ${fmt.pct(s.confidence)} · ${fmt.rate(s.rate_kg_h, s.rate_lo_kg_h, s.rate_hi_kg_h)} · exposure ${s.exposure ?? "not assessed"}`,
    ),
  );
  const title = h("input", { name: "title", required: true, maxlength: 200 });
  const summary = h("textarea", { name: "summary", rows: 3 });
  const action = h("textarea", { name: "recommended_action", rows: 2, placeholder: "Leave empty for the standard text (ground investigation with care for residents)" });
  const internal = h("textarea", { name: "internal_note", rows: 2, placeholder: "Stays with us: never released" });
  const level = select("tlp", [["", "partner's default"], ...TLP_LEVELS.map((t): [string, string] => [t.toUpperCase(), `TLP:${t.toUpperCase()}`])]);
  const submit = h("button", { type: "submit" }, "Save draft");
  const form = h(
    "form",
    { class: "stack", id: "draft", "aria-label": "Draft a lead" },
    field("Partner", partner),
    h(
      "fieldset",
      null,
      h("legend", null, "Confirmed sites"),
      siteBoxes.length ? siteBoxes : h("p", { class: "muted" }, "No confirmed site yet: confirm sites in the review queue first."),
    ),
    field("Title", title),
    field("Summary (released)", summary),
    field("Recommended action (released)", action),
    field("Internal note", internal),
    field("TLP", level),
    submit,
  );
  box.append(h("section", { class: "card" }, h("h2", null, "Draft a lead"), n.el, form));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const chosen = siteBoxes.map((l) => l.querySelector("input")!).filter((i) => i.checked).map((i) => i.value);
    if (!chosen.length) {
      n.error("Choose at least one confirmed site.");
      return;
    }
    const body: Record<string, unknown> = {
      partner: partner.value,
      sites: chosen,
      title: title.value.trim(),
      summary: summary.value,
      internal_note: internal.value,
    };
    if (action.value.trim()) body.recommended_action = action.value;
    if (level.value) body.tlp = level.value;
    void busy(submit, async () => {
      try {
        const lead = await post<LeadDetail>("/api/leads", body);
        setFlash(`Draft saved: "${lead.title}" waits for a supervisor's approval.`);
        go(path("lead", lead.id));
      } catch (err) {
        n.error(`The draft was not saved: ${message(err)}`);
      }
    });
  });
}
