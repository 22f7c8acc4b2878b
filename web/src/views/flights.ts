// Flights: the list with each one's latest track audit, their tracks and incursions on a
// small map (map layers endpoint), and every incursion found.

import { ApiError, get, message } from "../api";
import { h, heading, notice, table } from "../dom";
import * as fmt from "../format";
import { createMap, fetchLayers, fit, incursionsLayer, tracksLayer, zonesLayer } from "../mapbase";
import type { ViewContext } from "../view";

interface Incursion {
  zone: string | null;
  entry_time: string | number | null;
  exit_time: string | number | null;
  duration_s: number;
  max_depth_m: number;
}

interface FlightRow {
  id: string;
  operator: string | null;
  platform: string | null;
  sensor: string | null;
  start: string | null;
  end: string | null;
  has_track: boolean;
  audit: { id: string; incursions: number; total_unauthorized_s: number; report: { incursions?: Incursion[] } } | null;
}

function when(t: string | number | null): string {
  if (t === null) return "—";
  return typeof t === "number" ? `${t.toFixed(0)} s into the flight` : fmt.time(t);
}

export async function renderFlights(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const n = notice();
  main.append(heading("Flights"), n.el);
  let flights: FlightRow[];
  try {
    flights = (await get<{ flights: FlightRow[] }>("/api/flights")).flights;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) n.info("This server does not list flights yet (/api/flights).");
    else n.error(`Could not load the flights: ${message(err)}`);
    return;
  }
  const incursions = flights.flatMap((f) => (f.audit?.report.incursions ?? []).map((i) => ({ flight: f, ...i })));
  const el = h("div", { class: "map small-map", id: "flights-map", role: "region", "aria-label": "Flight tracks and incursions" });
  main.append(
    flights.some((f) => f.has_track) ? el : h("p", { class: "muted" }, "No flight has an audited track yet (plumetrace ingest audit)."),
    h(
      "section",
      { class: "card" },
      h("h2", null, `Flights (${flights.length})`),
      table(
        ["Flight", "Operator", "Platform", "Sensor", "Start", "End", "Track audited", "Incursions", "Time outside authorization"],
        flights.map((f) => [
          f.id,
          f.operator ?? "—",
          f.platform ?? "—",
          f.sensor ?? "—",
          fmt.time(f.start),
          fmt.time(f.end),
          f.audit ? "yes" : "no",
          f.audit ? String(f.audit.incursions) : "—",
          f.audit ? `${f.audit.total_unauthorized_s.toFixed(0)} s` : "—",
        ]),
        { id: "flights-table" },
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", null, `Incursions (${incursions.length})`),
      table(
        ["Flight", "Operator", "Zone", "Entry", "Exit", "Duration", "Max. depth"],
        incursions.map((i) => [i.flight.id, i.flight.operator ?? "—", i.zone ?? "—", when(i.entry_time), when(i.exit_time), `${i.duration_s.toFixed(0)} s`, fmt.metres(i.max_depth_m)]),
        { id: "incursions-table" },
      ),
    ),
  );
  if (!flights.some((f) => f.has_track)) return;
  const map = createMap(el);
  ctx.cleanup(() => map.remove());
  try {
    const layers = await fetchLayers();
    if (layers === null) {
      n.info("The map layers service (/api/map/layers) is not available: tracks are not drawn.");
      return;
    }
    zonesLayer(layers.layers.zones).addTo(map);
    const t = tracksLayer(layers.layers.tracks).addTo(map);
    const i = incursionsLayer(layers.layers.incursions).addTo(map);
    fit(map, [t, i], layers.bbox);
  } catch (err) {
    n.error(`Could not load the tracks: ${message(err)}`);
  }
}
