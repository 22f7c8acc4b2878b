// Organizations: the list (and creating one), and one organization with its
// designations, attributed sites and link graph.

import { can, get, message, post } from "../api";
import { busy, field, h, heading, link, notice, replace, table } from "../dom";
import * as fmt from "../format";
import { drawGraph } from "../graph";
import { go, path } from "../router";
import type { Graph, Organization, OrganizationDetail, OrgSite } from "../types";
import { badge, type ViewContext } from "../view";

export async function renderOrganizations(main: HTMLElement, _ctx: ViewContext): Promise<void> {
  const n = notice();
  const list = h("div", { class: "table-wrap" });
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const aliases = h("input", { name: "aliases", placeholder: "comma-separated" });
  const submit = h("button", { type: "submit" }, "Create");
  const form = h("form", { class: "inline", "aria-label": "New organization" }, field("Name", name), field("Aliases", aliases), submit);
  main.append(heading("Organizations"), n.el, list, h("section", { class: "card" }, h("h2", null, "New organization"), form));

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void busy(submit, async () => {
      try {
        const org = await post<Organization>("/api/organizations", {
          name: name.value.trim(),
          aliases: aliases.value.split(",").map((a) => a.trim()).filter(Boolean),
        });
        go(path("org", org.id));
      } catch (err) {
        n.error(`The organization was not created: ${message(err)}`);
      }
    });
  });

  try {
    const orgs = (await get<{ organizations: Organization[] }>("/api/organizations")).organizations;
    replace(
      list,
      table(
        ["Organization", "Aliases", "Designations", "Sites"],
        orgs.map((o) => [link(path("org", o.id), o.name), o.aliases.join(", ") || "—", String(o.n_designations ?? 0), String(o.n_sites)]),
        { id: "orgs-table" },
      ),
    );
  } catch (err) {
    n.error(`Could not load the organizations: ${message(err)}`);
  }
}

export async function renderOrganization(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const id = ctx.params[0] ?? "";
  const enc = encodeURIComponent(id);
  const n = notice();
  const content = h("div");
  main.append(n.el, content);

  async function load(): Promise<void> {
    let org: OrganizationDetail;
    let sites: OrgSite[];
    let graph: Graph;
    try {
      [org, sites, graph] = await Promise.all([
        get<OrganizationDetail>(`/api/organizations/${enc}`),
        get<{ sites: OrgSite[] }>(`/api/organizations/${enc}/sites`).then((r) => r.sites),
        get<Graph>(`/api/graph?organization=${enc}`),
      ]);
    } catch (err) {
      n.error(`Could not load organization ${id}: ${message(err)}`);
      return;
    }
    replace(
      content,
      heading(org.name),
      h("p", { class: "muted" }, org.aliases.length ? `Also known as ${org.aliases.join(", ")}` : "No aliases recorded."),
      h(
        "div",
        { class: "grid-2" },
        h(
          "div",
          null,
          h(
            "section",
            { class: "card" },
            h("h2", null, "Designations"),
            table(
              ["Authority", "Designation", "Date", "Reference"],
              org.designations.map((d) => [d.authority, d.designation, h("span", { class: "nowrap" }, d.date), d.reference || "—"]),
            ),
            can.designate(ctx.session) ? designationForm() : null,
          ),
          h(
            "section",
            { class: "card" },
            h("h2", null, "Sites"),
            table(
              ["Site", "Status", "Confidence", "Tie", "Basis"],
              sites.map((s) => [
                link(path("site", s.id), s.id),
                badge(s.status),
                fmt.pct(s.confidence),
                s.via === "attribution" ? `attributed, ${fmt.pct(s.attribution_confidence)}` : s.via,
                s.basis || "—",
              ]),
            ),
            can.attribute(ctx.session) ? attributionForm() : null,
          ),
        ),
        h(
          "section",
          { class: "card" },
          h("h2", null, "Link graph"),
          h("p", { class: "small muted" }, "◆ organizations · ● sites (colour: status) · ■ reports. Select a node to open it."),
          graph.nodes.length ? drawGraph(graph, id, 600, 440) : h("p", null, "No links yet."),
        ),
      ),
    );
  }

  function designationForm(): HTMLElement {
    const authority = h("input", { name: "authority", required: true });
    const designation = h("input", { name: "designation", required: true });
    const date = h("input", { name: "date", type: "date", required: true });
    const reference = h("input", { name: "reference" });
    const submit = h("button", { type: "submit" }, "Add designation");
    const form = h("form", { class: "inline", "aria-label": "Add a designation" }, field("Authority", authority), field("Designation", designation), field("Date", date), field("Reference", reference), submit);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void busy(submit, async () => {
        try {
          await post(`/api/organizations/${enc}/designations`, { authority: authority.value, designation: designation.value, date: date.value, reference: reference.value });
          await load();
          n.ok("Designation recorded.");
        } catch (err) {
          n.error(`The designation was not recorded: ${message(err)}`);
        }
      });
    });
    return form;
  }

  function attributionForm(): HTMLElement {
    const site = h("input", { name: "site_id", required: true, placeholder: "site-…" });
    const confidence = h("input", { name: "confidence", type: "number", min: 0, max: 1, step: 0.05, value: "0.5", required: true });
    const basis = h("input", { name: "basis" });
    const submit = h("button", { type: "submit" }, "Attribute site");
    const form = h("form", { class: "inline", "aria-label": "Attribute a site" }, field("Site id", site), field("Confidence", confidence), field("Basis", basis), submit);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void busy(submit, async () => {
        try {
          await post(`/api/organizations/${enc}/attributions`, { site_id: site.value.trim(), confidence: Number(confidence.value), basis: basis.value });
          await load();
          n.ok(`Site ${site.value.trim()} attributed.`);
        } catch (err) {
          n.error(`The attribution was not saved: ${message(err)}`);
        }
      });
    });
    return form;
  }

  await load();
}
