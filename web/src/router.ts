// Hash routes: "#/queue", "#/site/<id>", "#/org/<id>", "#/lead/<id>" ...

export interface Route {
  /** First path segment ("queue", "site", ...); "" for the root. */
  name: string;
  /** The remaining segments, URI-decoded. */
  params: string[];
}

export function parse(hash: string): Route {
  const path = hash.replace(/^#\/?/, "").split("?")[0] ?? "";
  const [name = "", ...params] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name, params };
}

export function current(): Route {
  return parse(location.hash);
}

/** Navigate to a route ("/site/abc"); re-renders even when it is the current one. */
export function go(path: string): void {
  const hash = `#${path}`;
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = hash;
}

export function onChange(fn: () => void): void {
  window.addEventListener("hashchange", fn);
}

/** A route path with URI-encoded segments. */
export function path(...segments: string[]): string {
  return `/${segments.map(encodeURIComponent).join("/")}`;
}
