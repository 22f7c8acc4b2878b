// Audit: verify the tamper-evident audit chain (supervisors, admins); admins also see
// the users.

import { get, message } from "../api";
import { busy, facts, field, h, heading, notice, replace, table } from "../dom";
import * as fmt from "../format";
import type { ViewContext } from "../view";

interface Verification {
  ok: boolean;
  events: number;
  head: string;
  problems: unknown[];
}

interface UserRow {
  name: string;
  role: string;
  active?: boolean;
  partner_id?: string | null;
  created?: string;
}

export async function renderAudit(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const n = notice();
  const result = h("div");
  const head = h("input", { name: "expect_head", placeholder: "SEQ:HASH (optional)" });
  const submit = h("button", { type: "submit" }, "Verify the chain");
  const form = h("form", { class: "inline", "aria-label": "Verify the audit chain" }, field("Published head to check", head), submit);
  main.append(heading("Audit"), n.el, h("section", { class: "card" }, h("h2", null, "Audit chain"), form, result));

  async function verify(): Promise<void> {
    try {
      const q = head.value.trim() ? `?expect_head=${encodeURIComponent(head.value.trim())}` : "";
      const v = await get<Verification>(`/api/audit/verify${q}`);
      replace(
        result,
        h("p", { class: v.ok ? "ok-text" : "error-text", role: "status" }, v.ok ? "The chain is intact." : "The chain has problems: see below."),
        facts([
          ["Events", String(v.events)],
          ["Head", h("code", null, v.head)],
        ]),
        v.problems.length ? h("pre", null, JSON.stringify(v.problems, null, 2)) : null,
      );
    } catch (err) {
      n.error(`The verification failed: ${message(err)}`);
    }
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void busy(submit, verify);
  });
  await verify();

  if (ctx.session.role === "admin") {
    try {
      const users = (await get<{ users: UserRow[] }>("/api/users")).users;
      main.append(
        h(
          "section",
          { class: "card" },
          h("h2", null, "Users"),
          table(["Name", "Role", "Partner", "Active", "Created"], users.map((u) => [u.name, u.role, u.partner_id ?? "—", u.active === false ? "no" : "yes", fmt.time(u.created)])),
        ),
      );
    } catch (err) {
      n.error(`Could not load the users: ${message(err)}`);
    }
  }
}
