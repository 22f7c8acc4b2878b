// What every view gets, and the common pieces (status badges, TLP labels).

import type { Session } from "./api";
import { h } from "./dom";

export interface ViewContext {
  /** Route parameters (e.g. the site id). */
  params: string[];
  session: Session;
  /** Register a function to run when the view is left (remove maps, destroy charts). */
  cleanup(fn: () => void): void;
}

export type View = (main: HTMLElement, ctx: ViewContext) => Promise<void>;

/** A coloured status badge (site statuses, lead states); `label` defaults to the status. */
export function badge(status: string | null | undefined, label?: string): HTMLElement {
  const s = status ?? "unknown";
  return h("span", { class: `badge badge-${s.replace(/[^a-z0-9-]/gi, "")}` }, label ?? s);
}

/** An exposure class badge ("high" in red ...), or "not assessed". */
export function exposureBadge(exposure: string | null | undefined): HTMLElement {
  return exposure ? badge(`exposure-${exposure}`, exposure) : h("span", { class: "muted" }, "not assessed");
}

export const TLP_LEVELS = ["clear", "green", "amber", "amber+strict", "red"] as const;

/** A TLP 2.0 label in its standard colours (FIRST): "TLP:AMBER" on black. */
export function tlp(level: string | null | undefined, large = false): HTMLElement {
  const lvl = (level ?? "").toLowerCase().replace(/^tlp:/, "");
  const cls = lvl === "amber+strict" ? "amber-strict" : lvl;
  return h(
    "span",
    { class: `tlp tlp-${cls}${large ? " tlp-large" : ""}`, title: "Traffic Light Protocol 2.0" },
    `TLP:${lvl.toUpperCase() || "?"}`,
  );
}

/** The site status colours (the map and the legend use these too). */
export const STATUS_COLOURS: Record<string, string> = {
  candidate: "#0072b2",
  confirmed: "#d55e00",
  rejected: "#7a7a7a",
  "needs-collection": "#a2438d",
  merged: "#444444",
};

export const EXPOSURES: [string, string][] = [
  ["", "any exposure"],
  ["high", "high"],
  ["medium", "medium"],
  ["low", "low"],
  ["unknown", "unknown"],
];

/** The first page a role sees after logging in. */
export function homeRoute(role: string): string {
  if (role === "partner") return "/partner";
  if (role === "admin") return "/audit";
  return role === "liaison" ? "/leads" : "/queue";
}

let flashText = "";

/** A success message for the next view (e.g. "Draft saved" after navigating to it). */
export function setFlash(text: string): void {
  flashText = text;
}

export function takeFlash(): string {
  const t = flashText;
  flashText = "";
  return t;
}
