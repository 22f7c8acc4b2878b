// Entry point: picks the shell by role (staff workbench or the partner's minimal view)
// and renders the view of the current hash route.

import "./styles.css";
import { LOGGED_OUT, clearSession, post, session, type Session } from "./api";
import { h, link, notice, replace } from "./dom";
import { current, go, onChange } from "./router";
import { homeRoute, type View, type ViewContext } from "./view";
import { renderLogin, setLoginMessage } from "./views/login";
import { renderQueue } from "./views/queue";
import { renderSite } from "./views/site";
import { renderMap } from "./views/map";
import { renderOrganization, renderOrganizations } from "./views/organizations";
import { renderLeads } from "./views/leads";
import { renderLead } from "./views/lead";
import { renderDashboard } from "./views/dashboard";
import { renderFlights } from "./views/flights";
import { renderPartner } from "./views/partner";
import { renderAudit } from "./views/audit";

const READERS = ["analyst", "supervisor", "liaison"];

interface Entry {
  view: View;
  roles: string[];
  title: string;
  /** Shown in the nav bar under this label (the label may depend on the role). */
  nav?: (s: Session) => string;
  /** The nav item this route belongs to. */
  section?: string;
}

const ROUTES: Record<string, Entry> = {
  queue: {
    view: renderQueue,
    roles: READERS,
    title: "Review queue",
    nav: (s) => (s.role === "liaison" ? "Sites" : "Review queue"),
  },
  site: { view: renderSite, roles: READERS, title: "Site dossier", section: "queue" },
  map: { view: renderMap, roles: READERS, title: "Map", nav: () => "Map" },
  orgs: { view: renderOrganizations, roles: READERS, title: "Organizations", nav: () => "Organizations" },
  org: { view: renderOrganization, roles: READERS, title: "Organization", section: "orgs" },
  leads: { view: renderLeads, roles: READERS, title: "Leads", nav: () => "Leads" },
  lead: { view: renderLead, roles: READERS, title: "Lead", section: "leads" },
  dashboard: { view: renderDashboard, roles: READERS, title: "Partner response", nav: () => "Partner response" },
  flights: { view: renderFlights, roles: READERS, title: "Flights", nav: () => "Flights" },
  audit: { view: renderAudit, roles: ["supervisor", "admin"], title: "Audit", nav: () => "Audit" },
};

let cleanups: (() => void)[] = [];
let generation = 0;

function runCleanups(): void {
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // a view's cleanup must not stop navigation
    }
  }
  cleanups = [];
}

async function logout(): Promise<void> {
  try {
    await post("/api/auth/logout");
  } catch {
    // the token may already be gone; the session is cleared anyway
  }
  clearSession();
  setLoginMessage("You are logged out.");
  go("/login");
}

function userBox(s: Session): HTMLElement {
  return h(
    "div",
    { class: "user" },
    h("span", { class: "who" }, `${s.name} · ${s.role}`),
    h("button", { type: "button", class: "secondary small", onclick: () => void logout() }, "Log out"),
  );
}

function staffShell(s: Session, routeName: string): HTMLElement {
  const active = ROUTES[routeName]?.section ?? routeName;
  const items = Object.entries(ROUTES).filter(([, e]) => e.nav && e.roles.includes(s.role));
  const nav = h(
    "nav",
    { class: "staff-nav", "aria-label": "Workbench" },
    h(
      "ul",
      null,
      items.map(([name, e]) =>
        h("li", null, link(`/${name}`, e.nav!(s), { "aria-current": name === active ? "page" : null })),
      ),
    ),
  );
  return h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", href: `#${homeRoute(s.role)}` }, "plumetrace"),
    nav,
    userBox(s),
  );
}

function partnerShell(s: Session): HTMLElement {
  return h(
    "header",
    { class: "topbar partner" },
    h("span", { class: "brand" }, "plumetrace · leads released to you"),
    userBox(s),
  );
}

async function render(): Promise<void> {
  runCleanups();
  const gen = ++generation;
  const app = document.getElementById("app")!;
  const s = session();
  const route = current();
  const main = h("main", { id: "main", tabindex: -1 });
  const ctx: ViewContext = {
    params: route.params,
    session: s as Session,
    cleanup: (fn) => {
      if (gen === generation) cleanups.push(fn);
      else fn();
    },
  };

  if (!s) {
    if (route.name !== "login") {
      location.replace("#/login");
      return;
    }
    document.title = "plumetrace — log in";
    replace(app, main);
    await renderLogin(main, ctx);
    return;
  }
  if (route.name === "login" || route.name === "") {
    location.replace(`#${homeRoute(s.role)}`);
    return;
  }
  if (s.role === "partner") {
    // a partner user reaches nothing but its own leads
    if (route.name !== "partner") {
      location.replace("#/partner");
      return;
    }
    document.title = "plumetrace — your leads";
    replace(app, partnerShell(s), main);
    await guarded(main, () => renderPartner(main, ctx));
    return;
  }
  const entry = ROUTES[route.name];
  replace(app, h("a", { class: "skip", href: "#main", onclick: skipToMain }, "Skip to content"), staffShell(s, route.name), main);
  if (!entry || !entry.roles.includes(s.role)) {
    document.title = "plumetrace";
    const n = notice();
    main.append(n.el);
    n.error(entry ? `The ${s.role} role cannot open this page.` : "There is no such page.");
    return;
  }
  document.title = `plumetrace — ${entry.title}`;
  await guarded(main, () => entry.view(main, ctx));
}

function skipToMain(ev: Event): void {
  ev.preventDefault();
  document.getElementById("main")?.focus();
}

async function guarded(main: HTMLElement, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const n = notice();
    main.prepend(n.el);
    n.error(`This page could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
  }
}

window.addEventListener(LOGGED_OUT, (ev) => {
  const detail = (ev as CustomEvent<string>).detail;
  setLoginMessage(`Your session has ended (${detail}). Log in again.`);
  go("/login");
});

onChange(() => void render());
void render();
