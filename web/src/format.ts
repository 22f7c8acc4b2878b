// Formatting of numbers, times and positions for display.

const DASH = "—";

export function num(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || Number.isNaN(x) ? DASH : x.toFixed(digits);
}

export function pct(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined ? DASH : `${(x * 100).toFixed(digits)} %`;
}

/** ISO time as "2026-05-01 17:00 UTC". */
export function time(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** ISO time as "2026-05-01 17:00" (for table columns headed "(UTC)"). */
export function utc(iso: string | null | undefined): string {
  return time(iso).replace(/ UTC$/, "");
}

export function date(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : DASH;
}

export function latlon(lat: number, lon: number): string {
  const ns = lat >= 0 ? "N" : "S";
  const ew = lon >= 0 ? "E" : "W";
  return `${Math.abs(lat).toFixed(5)}° ${ns}, ${Math.abs(lon).toFixed(5)}° ${ew}`;
}

export function metres(m: number | null | undefined): string {
  if (m === null || m === undefined) return DASH;
  return m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${m.toFixed(0)} m`;
}

/** A rate with its interval: "50 kg/h (35–65)". */
export function rate(r: number | null | undefined, lo?: number | null, hi?: number | null): string {
  if (r === null || r === undefined) return DASH;
  const interval = lo !== null && lo !== undefined && hi !== null && hi !== undefined ? ` (${lo.toFixed(0)}–${hi.toFixed(0)})` : "";
  return `${r.toFixed(0)} kg/h${interval}`;
}

export function days(d: number | null | undefined): string {
  return d === null || d === undefined ? DASH : `${d.toFixed(1)} d`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function yesno(b: boolean | null | undefined): string {
  return b === null || b === undefined ? "unknown" : b ? "yes" : "no";
}
