// Small DOM helpers: elements are built with textContent only (never innerHTML), so text
// from the API can never inject markup.

export type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);
export type Attrs = Record<string, AttrValue>;

function applyAttrs(el: Element, attrs: Attrs | null | undefined): void {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(key.replace(/^on/, ""), value);
    } else if (key === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(value);
    } else if (key === "style" && "style" in el) {
      // through the CSSOM: the page's Content-Security-Policy blocks style attributes
      (el as HTMLElement).style.cssText = String(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(el: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Create an HTML element with attributes (`onclick` etc. become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an SVG element. */
export function svg(tag: string, attrs?: Attrs | null, ...children: (Child | Child[])[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replace an element's children. */
export function replace(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A message area: `ok`, `error` and `info` replace its content; errors are alerts. */
export interface Notice {
  el: HTMLElement;
  ok(text: string): void;
  info(text: string): void;
  error(text: string, ...extra: Child[]): void;
  clear(): void;
}

export function notice(): Notice {
  const el = h("div", { class: "notice-area", "aria-live": "polite" });
  const show = (kind: string, role: string, text: string, extra: Child[]) => {
    replace(el, h("div", { class: `notice notice-${kind}`, role }, h("span", null, text), ...extra));
  };
  return {
    el,
    ok: (text) => show("ok", "status", text, []),
    info: (text) => show("info", "status", text, []),
    error: (text, ...extra) => show("error", "alert", text, extra),
    clear: () => el.replaceChildren(),
  };
}

/** A table with a header row; `rows` are arrays of cells. */
export function table(headers: Child[], rows: Child[][], attrs?: Attrs): HTMLTableElement {
  return h(
    "table",
    { class: "data", ...attrs },
    h("thead", null, h("tr", null, headers.map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      null,
      rows.length
        ? rows.map((r) => h("tr", null, r.map((c) => h("td", null, c))))
        : h("tr", null, h("td", { colspan: headers.length, class: "empty" }, "Nothing to show.")),
    ),
  );
}

/** A definition list of label/value pairs. */
export function facts(pairs: [string, Child][]): HTMLDListElement {
  return h(
    "dl",
    { class: "facts" },
    pairs.map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, v ?? "—"))),
  );
}

let nextId = 0;

/** A form field: `label` tied to `control` (and a hint described by it). */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  if (!control.id) control.id = `f${++nextId}`;
  const help = hint ? h("small", { id: `${control.id}-hint` }, hint) : null;
  if (help) control.setAttribute("aria-describedby", help.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, help);
}

/** A `<select>` with `[value, label]` options. */
export function select(
  name: string,
  options: [string, string][],
  value = "",
  attrs?: Attrs,
): HTMLSelectElement {
  return h(
    "select",
    { name, ...attrs },
    options.map(([v, l]) => h("option", { value: v, selected: v === value }, l)),
  );
}

/** A heading row with optional actions at the right. */
export function heading(text: string, ...actions: Child[]): HTMLElement {
  return h("div", { class: "heading" }, h("h1", null, text), h("div", { class: "actions" }, ...actions));
}

/** A link to a hash route. */
export function link(route: string, text: Child, attrs?: Attrs): HTMLAnchorElement {
  return h("a", { href: `#${route}`, ...attrs }, text);
}

/** Run `fn` while `button` is disabled (prevents double submissions). */
export async function busy<T>(button: HTMLButtonElement | null, fn: () => Promise<T>): Promise<T> {
  if (button) button.disabled = true;
  try {
    return await fn();
  } finally {
    if (button) button.disabled = false;
  }
}
