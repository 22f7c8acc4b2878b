// Log in (and set a new password after a one-time one).

import { ApiError, clearSession, get, message, post, setSession } from "../api";
import { busy, field, h, notice } from "../dom";
import { go } from "../router";
import { homeRoute, type ViewContext } from "../view";

let pending = "";

/** A message to show on the next login page (logged out, session expired). */
export function setLoginMessage(text: string): void {
  pending = text;
}

interface LoginAnswer {
  access_token: string;
  role: string;
  must_change_password: boolean;
}

export async function renderLogin(main: HTMLElement, _ctx: ViewContext): Promise<void> {
  const n = notice();
  if (pending) {
    n.info(pending);
    pending = "";
  }
  const name = h("input", { name: "name", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, "Log in");
  const form = h(
    "form",
    { class: "stack", "aria-label": "Log in" },
    field("User name", name),
    field("Password", password),
    submit,
  );
  const card = h(
    "section",
    { class: "login card" },
    h("h1", null, "plumetrace"),
    h("p", { class: "muted" }, "Aerial chemical-emission surveillance · analysts' workbench"),
    n.el,
    form,
    h("p", { class: "small muted" }, "Non-lethal by design: leads go to partner authorities for ground investigation."),
  );
  main.append(card);

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void busy(submit, async () => {
      n.clear();
      try {
        const answer = await post<LoginAnswer>("/api/auth/login", {
          name: name.value.trim(),
          password: password.value,
        });
        setSession({ token: answer.access_token, role: answer.role, name: name.value.trim(), id: "" });
        if (answer.must_change_password) {
          changePassword(card, password.value);
          return;
        }
        const me = await get<{ id: string; name: string; role: string }>("/api/auth/me");
        setSession({ token: answer.access_token, role: me.role, name: me.name, id: me.id });
        go(homeRoute(me.role));
      } catch (err) {
        clearSession();
        n.error(err instanceof ApiError && err.status === 401 ? "Wrong user name or password." : message(err));
        password.select();
      }
    });
  });
}

function changePassword(card: HTMLElement, oldPassword: string): void {
  const n = notice();
  n.info("This is a one-time password: choose your own (at least 12 characters).");
  const pw1 = h("input", { type: "password", name: "new", autocomplete: "new-password", required: true, minlength: 12 });
  const pw2 = h("input", { type: "password", name: "again", autocomplete: "new-password", required: true, minlength: 12 });
  const submit = h("button", { type: "submit" }, "Set password");
  const form = h("form", { class: "stack", "aria-label": "Set your password" }, field("New password", pw1), field("Repeat it", pw2), submit);
  card.replaceChildren(h("h1", null, "Set your password"), n.el, form);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (pw1.value !== pw2.value) {
      n.error("The two passwords differ.");
      return;
    }
    void busy(submit, async () => {
      try {
        await post("/api/auth/password", { old_password: oldPassword, new_password: pw1.value });
        clearSession();
        setLoginMessage("Password set. Log in with your new password.");
        go("/login");
      } catch (err) {
        n.error(message(err));
      }
    });
  });
}
