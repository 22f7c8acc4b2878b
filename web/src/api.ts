// The fetch wrapper: bearer token from sessionStorage, `{"detail": ...}` errors as ApiError.

export interface Session {
  token: string;
  role: string;
  name: string;
  id: string;
}

const KEY = "plumetrace.session";

export const STAFF_ROLES = ["analyst", "supervisor", "liaison", "admin"] as const;

export function session(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return null;
  }
}

export function setSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** An HTTP error from the API, with the server's explanation. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
}

function explain(body: unknown, status: number): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    // FastAPI's request validation errors: [{loc, msg}, ...]
    return (detail as ValidationItem[])
      .map((d) => `${(d.loc ?? []).filter((p) => p !== "body").join(".")}: ${d.msg ?? "invalid"}`)
      .join("; ");
  }
  return `the server answered ${status}`;
}

/** Event fired when the server refuses the token (401): the app goes back to login. */
export const LOGGED_OUT = "plumetrace:logged-out";

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const s = session();
  if (s) headers.Authorization = `Bearer ${s.token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch (err) {
    throw new ApiError(0, `cannot reach the server (${String(err)})`);
  }
  if (!res.ok) {
    let parsed: unknown = null;
    try {
      parsed = await res.json();
    } catch {
      // not JSON: fall back to the status
    }
    const error = new ApiError(res.status, explain(parsed, res.status));
    if (res.status === 401 && s && path !== "/api/auth/login") {
      clearSession();
      window.dispatchEvent(new CustomEvent(LOGGED_OUT, { detail: error.detail }));
    }
    throw error;
  }
  return res;
}

/** Call the API and return its JSON (undefined for 204). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string): Promise<T> => api<T>("GET", path);
export const post = <T>(path: string, body?: unknown): Promise<T> => api<T>("POST", path, body ?? {});

/** Fetch a file with the token (for images and downloads). */
export async function blob(path: string): Promise<Blob> {
  return (await send("GET", path)).blob();
}

/** Download `path` (with the token) as a file named `filename`. */
export async function download(path: string, filename: string): Promise<void> {
  const url = URL.createObjectURL(await blob(path));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "" && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** A message for any error (ApiError detail, else its text). */
export function message(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  return err instanceof Error ? err.message : String(err);
}

export const can = {
  review: (s: Session) => s.role === "analyst" || s.role === "supervisor",
  readSites: (s: Session) => ["analyst", "supervisor", "liaison"].includes(s.role),
  draftLead: (s: Session) => s.role === "liaison" || s.role === "supervisor",
  approveLead: (s: Session) => s.role === "supervisor",
  recordEvent: (s: Session) => s.role === "liaison",
  designate: (s: Session) => s.role === "supervisor" || s.role === "liaison",
  attribute: (s: Session) => s.role === "analyst" || s.role === "supervisor",
  audit: (s: Session) => s.role === "supervisor" || s.role === "admin",
};
