// The partner's only view: the leads released to it (TLP label first), exports, and the
// forms to acknowledge and to report the outcome.

import { get, message, post } from "../api";
import { busy, facts, field, h, heading, notice, replace, select, type Notice } from "../dom";
import * as fmt from "../format";
import { exportButtons, releasedContent } from "../release";
import type { PartnerLead } from "../types";
import { badge, type ViewContext } from "../view";

const OUTCOMES: [string, string][] = [
  ["dismantled", "Site dismantled"],
  ["arrests", "Arrests made"],
  ["nothing-found", "Nothing found"],
  ["declined", "Declined to act"],
  ["no-action", "No action yet"],
];

/** The action time to send: the chosen day's end, but never later than now. */
function actionTime(day: string): string {
  const end = new Date(`${day}T23:59:59`);
  return new Date(Math.min(end.getTime(), Date.now())).toISOString();
}

export async function renderPartner(main: HTMLElement, _ctx: ViewContext): Promise<void> {
  const n = notice();
  const list = h("div", { class: "partner-leads" });
  main.append(heading("Leads released to you"), n.el, list);

  async function load(): Promise<void> {
    let leads: PartnerLead[];
    try {
      leads = (await get<{ leads: PartnerLead[] }>("/api/partner/leads")).leads;
    } catch (err) {
      n.error(`Could not load your leads: ${message(err)}`);
      return;
    }
    replace(list, leads.length ? leads.map(card) : h("p", { class: "muted" }, "No lead has been released to you yet."));
  }

  function card(item: PartnerLead): HTMLElement {
    const lead = item.lead;
    const enc = encodeURIComponent(lead.id);
    const local = notice();
    return h(
      "section",
      { class: "card partner-lead", "data-lead": lead.id },
      releasedContent(lead),
      exportButtons(`/api/partner/leads/${enc}/export`, lead.id, local),
      h(
        "div",
        { class: "response" },
        h("h3", null, "Your response ", badge(item.state)),
        facts([
          ["Acknowledged", fmt.time(item.acknowledged)],
          ["Outcome reported", item.outcome ? `${item.outcome}${item.outcome_text ? ` — ${item.outcome_text}` : ""} (${fmt.time(item.feedback)})` : "—"],
          ["Action date", fmt.time(item.action_date)],
        ]),
        local.el,
        item.acknowledged ? null : ackForm(enc, local),
        feedbackForm(enc, local),
      ),
    );
  }

  function ackForm(enc: string, local: Notice): HTMLElement {
    const text = h("input", { name: "ack_text", placeholder: "optional message" });
    const submit = h("button", { type: "submit" }, "Acknowledge receipt");
    const form = h("form", { class: "inline", "aria-label": "Acknowledge receipt" }, field("Message", text), submit);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void busy(submit, async () => {
        try {
          await post(`/api/partner/leads/${enc}/acknowledge`, { text: text.value });
          await load();
          n.ok("Receipt acknowledged. Thank you.");
        } catch (err) {
          local.error(`The acknowledgement was not recorded: ${message(err)}`);
        }
      });
    });
    return form;
  }

  function feedbackForm(enc: string, local: Notice): HTMLElement {
    const outcome = select("outcome", OUTCOMES, "", { required: true });
    const text = h("textarea", { name: "feedback_text", rows: 2, placeholder: "What you did and found" });
    const day = h("input", { type: "date", name: "action_date" });
    const submit = h("button", { type: "submit" }, "Send feedback");
    const form = h(
      "form",
      { class: "stack", "aria-label": "Report the outcome" },
      field("Outcome", outcome),
      field("Details", text),
      field("Action date", day, "When you acted on the ground, if you did"),
      submit,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body: Record<string, unknown> = { outcome: outcome.value, text: text.value };
      if (day.value) body.action_date = actionTime(day.value);
      void busy(submit, async () => {
        try {
          await post(`/api/partner/leads/${enc}/feedback`, body);
          await load();
          n.ok("Feedback sent. Thank you.");
        } catch (err) {
          local.error(`The feedback was not recorded: ${message(err)}`);
        }
      });
    });
    return form;
  }

  await load();
}
