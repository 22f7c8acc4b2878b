// One lead: its record, the release preview (what leaves, what redaction kept home),
// approve / return, exports once released, and the partner's response events.

import { can, get, message, post } from "../api";
import { busy, facts, field, h, heading, link, notice, replace, select, table } from "../dom";
import * as fmt from "../format";
import { path } from "../router";
import { exportButtons, redactionTable, releasedContent } from "../release";
import type { LeadDetail, Partner, ReleasableLead, Redaction } from "../types";
import { badge, takeFlash, tlp, type ViewContext } from "../view";

const OUTCOMES = ["dismantled", "arrests", "nothing-found", "declined", "no-action"];

export async function renderLead(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const id = ctx.params[0] ?? "";
  const enc = encodeURIComponent(id);
  const n = notice();
  const content = h("div");
  main.append(n.el, content);
  const flash = takeFlash();
  if (flash) n.ok(flash);
  const s = ctx.session;

  async function load(): Promise<void> {
    let lead: LeadDetail;
    let partners: Partner[] = [];
    try {
      [lead, partners] = await Promise.all([
        get<LeadDetail>(`/api/leads/${enc}`),
        get<{ partners: Partner[] }>("/api/partners").then((r) => r.partners).catch(() => []),
      ]);
    } catch (err) {
      n.error(`Could not load lead ${id}: ${message(err)}`);
      return;
    }
    const partnerName = partners.find((p) => p.id === lead.partner)?.name ?? lead.partner;
    replace(
      content,
      h("div", { class: "lead-title" }, tlp(lead.tlp, true), heading(lead.title, badge(lead.status), badge(lead.state))),
      h(
        "section",
        { class: "card" },
        h("h2", null, "Record"),
        facts([
          ["Partner", partnerName],
          ["Sites", h("span", null, lead.sites.map((sid, i) => [i ? ", " : "", link(path("site", sid), sid)]).flat())],
          ["Drafted", `${lead.drafted_by}, ${fmt.time(lead.drafted)}`],
          ["Approved", lead.approved_by ? `${lead.approved_by}, ${fmt.time(lead.released)}` : "not yet"],
          ["Acknowledged", fmt.time(lead.acknowledged)],
          ["Feedback", lead.feedback ? `${fmt.time(lead.feedback)}: ${lead.outcome ?? ""}${lead.outcome_text ? ` — ${lead.outcome_text}` : ""}` : "—"],
          ["Action on the ground", fmt.time(lead.action_date)],
          ["Internal note (never released)", lead.internal_note || "—"],
        ]),
      ),
      lead.status === "draft" ? await previewSection(lead) : releasedSection(lead),
      eventsSection(lead),
    );
  }

  async function previewSection(lead: LeadDetail): Promise<HTMLElement> {
    const box = h("section", { class: "card", id: "preview", "aria-labelledby": "preview-h" }, h("h2", { id: "preview-h" }, "Release preview: exactly what would leave"));
    if (!can.draftLead(s)) {
      box.append(h("p", { class: "muted" }, "Liaisons and supervisors see the release preview."));
      return box;
    }
    try {
      const p = await get<{ lead: ReleasableLead; redaction: Redaction }>(`/api/leads/${enc}/preview`);
      box.append(
        h("div", { class: "grid-2" }, h("div", null, releasedContent(p.lead)), h("div", null, h("h3", null, "Kept home by redaction"), redactionTable(p.redaction))),
      );
    } catch (err) {
      box.append(h("p", { class: "error-text" }, `The preview failed: ${message(err)}`));
    }
    if (can.approveLead(s)) box.append(decision(lead));
    else box.append(h("p", { class: "muted" }, "A supervisor other than the drafter approves the release (two-person rule)."));
    return box;
  }

  function decision(lead: LeadDetail): HTMLElement {
    const approve = h("button", { type: "button", id: "approve" }, "Approve and release");
    const note = h("textarea", { name: "return_note", rows: 2, placeholder: "Why it goes back to the drafter" });
    const back = h("button", { type: "button", class: "secondary" }, "Return to drafter");
    approve.addEventListener("click", () =>
      void busy(approve, async () => {
        if (!window.confirm(`Release "${lead.title}" to the partner now? It cannot be recalled.`)) return;
        try {
          await post(`/api/leads/${enc}/approve`);
          await load();
          n.ok("Lead approved and released to the partner.");
        } catch (err) {
          n.error(`The lead was not released: ${message(err)}`);
        }
      }),
    );
    back.addEventListener("click", () =>
      void busy(back, async () => {
        if (!note.value.trim()) {
          n.error("Say why the draft goes back (a note is required).");
          return;
        }
        try {
          await post(`/api/leads/${enc}/return`, { note: note.value });
          await load();
          n.ok("Draft returned to its drafter.");
        } catch (err) {
          n.error(`The draft was not returned: ${message(err)}`);
        }
      }),
    );
    return h("div", { class: "decision" }, h("h3", null, "Supervisor decision"), h("div", { class: "buttons" }, approve), field("Return note", note), h("div", { class: "buttons" }, back));
  }

  function releasedSection(lead: LeadDetail): HTMLElement {
    return h(
      "section",
      { class: "card", "aria-labelledby": "released-h" },
      h("h2", { id: "released-h" }, "What the partner received"),
      lead.release ? exportButtons(`/api/leads/${enc}/export`, lead.id, n) : null,
      lead.release
        ? h("div", { class: "grid-2" }, h("div", null, releasedContent(lead.release)), h("div", null, h("h3", null, "Kept home by redaction"), redactionTable(lead.redaction)))
        : h("p", { class: "muted" }, "Nothing was released."),
    );
  }

  function eventsSection(lead: LeadDetail): HTMLElement {
    return h(
      "section",
      { class: "card", "aria-labelledby": "events-h" },
      h("h2", { id: "events-h" }, "Response events"),
      table(
        ["Time", "Event", "Channel", "By", "Outcome", "Text"],
        lead.events.map((e) => [fmt.time(e.time), badge(e.kind), e.channel, e.user ?? "—", e.outcome ?? "—", e.text || "—"]),
        { id: "events-table" },
      ),
      can.recordEvent(s) && lead.status === "released" ? eventForm() : null,
    );
  }

  function eventForm(): HTMLElement {
    const kind = select("kind", [["acknowledged", "acknowledged"], ["feedback", "feedback"], ["action", "action on the ground"], ["verified", "verified by re-survey"]]);
    const outcome = select("outcome", [["", "—"], ...OUTCOMES.map((o): [string, string] => [o, o])]);
    const verification = select("verification", [["", "—"], ["no-emission", "no emission"], ["still-emitting", "still emitting"]]);
    const when = h("input", { type: "datetime-local", name: "time" });
    const text = h("input", { name: "text" });
    const submit = h("button", { type: "submit" }, "Record");
    const form = h(
      "form",
      { class: "inline", "aria-label": "Record a response received by another channel" },
      field("Event", kind),
      field("Outcome", outcome),
      field("Verification", verification),
      field("When (local time)", when, "empty: now"),
      field("Text", text),
      submit,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body: Record<string, unknown> = { kind: kind.value, text: text.value };
      if (outcome.value) body.outcome = outcome.value;
      if (verification.value) body.verification = verification.value;
      if (when.value) body.time = new Date(when.value).toISOString();
      void busy(submit, async () => {
        try {
          await post(`/api/leads/${enc}/events`, body);
          await load();
          n.ok(`Recorded: ${kind.value}.`);
        } catch (err) {
          n.error(`The event was not recorded: ${message(err)}`);
        }
      });
    });
    return h("div", null, h("h3", null, "Record a response received by another channel"), form);
  }

  await load();
}
