// Leaflet pieces shared by the map and flights views: no tiles unless the API names an
// XYZ basemap; GeoJSON layers styled by kind; plume images fetched with the token.

import * as L from "leaflet";
import "leaflet/dist/leaflet.css";
import { ApiError, blob, get, query } from "./api";
import { h } from "./dom";
import * as fmt from "./format";
import type { Feature } from "geojson";
import type { FeatureCollection, MapLayers } from "./types";
import { STATUS_COLOURS } from "./view";

export type LayerName = keyof MapLayers["layers"];

export const LAYER_LABELS: Record<LayerName, string> = {
  zones: "Airspace zones",
  tracks: "Flight tracks",
  incursions: "Incursions",
  plumes: "Plumes",
  insitu: "In-situ sources (68 %)",
  sites: "Sites",
};

export const LAYER_COLOURS: Record<Exclude<LayerName, "sites">, string> = {
  zones: "#5b7f95",
  tracks: "#333333",
  incursions: "#c62828",
  plumes: "#e65100",
  insitu: "#6a1b9a",
};

const ZONE_STYLE: Record<string, L.PathOptions> = {
  country: { color: "#8a8170", weight: 1, fillColor: "#e9e4d4", fillOpacity: 0.7 },
  international: { color: "#5b8db8", weight: 1, dashArray: "6 4", fillColor: "#cfe0ee", fillOpacity: 0.3 },
  authorized: { color: "#2e7d32", weight: 2, dashArray: "2 4", fillOpacity: 0 },
};

/** Pale land tints so that neighbouring countries differ. */
const LAND = ["#ece6d2", "#dfe6cf", "#e9dccf", "#e4e0c6", "#e6d9e2"];

function tint(name: string): string {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return LAND[hash % LAND.length]!;
}

/** The layers endpoint's answer, or null when the server has no map endpoint (404). */
export async function fetchLayers(bbox?: string): Promise<MapLayers | null> {
  try {
    return await get<MapLayers>(`/api/map/layers${query({ bbox })}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export function createMap(el: HTMLElement): L.Map {
  const map = L.map(el, { worldCopyJump: false, preferCanvas: false, attributionControl: true }).setView([20, 0], 2);
  map.attributionControl.setPrefix("Leaflet");
  return map;
}

function props(f: Feature | undefined): Record<string, unknown> {
  return (f?.properties ?? {}) as Record<string, unknown>;
}

function rows(pairs: [string, unknown][]): HTMLElement {
  return h(
    "table",
    { class: "popup" },
    pairs
      .filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, String(v)))),
  );
}

function numOr(v: unknown, digits = 0): string {
  return typeof v === "number" ? v.toFixed(digits) : "—";
}

export function zonesLayer(fc: FeatureCollection): L.GeoJSON {
  return L.geoJSON(fc, {
    style: (f) => {
      const p = props(f);
      const base = ZONE_STYLE[String(p.kind)] ?? ZONE_STYLE.country!;
      if (p.kind === "country") return { ...base, fillColor: tint(String(p.zone)) };
      return p.allowed === false && p.kind === "authorized" ? { ...base, color: "#b71c1c" } : base;
    },
    onEachFeature: (f, layer) => {
      const p = props(f);
      layer.bindPopup(
        rows([
          ["Zone", p.name ?? p.zone],
          ["Kind", p.kind],
          ["Operator", p.operator],
          ["Allowed", p.allowed === null || p.allowed === undefined ? null : p.allowed ? "yes" : "no"],
        ]),
      );
    },
  });
}

export function tracksLayer(fc: FeatureCollection): L.GeoJSON {
  return L.geoJSON(fc, {
    style: { color: LAYER_COLOURS.tracks, weight: 2, opacity: 0.8 },
    onEachFeature: (f, layer) => {
      const p = props(f);
      layer.bindPopup(
        rows([
          ["Flight", p.flight],
          ["Operator", p.operator],
          ["Platform", p.platform],
          ["Sensor", p.sensor],
          ["Start", fmt.time(p.start as string)],
          ["End", fmt.time(p.end as string)],
        ]),
      );
    },
  });
}

export function incursionsLayer(fc: FeatureCollection): L.GeoJSON {
  return L.geoJSON(fc, {
    style: { color: LAYER_COLOURS.incursions, weight: 4, opacity: 0.9 },
    pointToLayer: (_f, ll) => L.circleMarker(ll, { radius: 6, color: LAYER_COLOURS.incursions }),
    onEachFeature: (f, layer) => {
      const p = props(f);
      layer.bindPopup(
        rows([
          ["Incursion by", p.flight],
          ["Operator", p.operator],
          ["Into zone", p.zone],
          ["Duration", `${numOr(p.duration_s)} s`],
          ["Max. depth", fmt.metres(p.max_depth_m as number | null)],
        ]),
      );
    },
  });
}

/** Plume outlines, and each plume's image overlaid at its bounds (fetched with the token). */
export function plumesLayer(fc: FeatureCollection, urls: string[], onSite: (id: string) => void): L.FeatureGroup {
  const group = L.featureGroup();
  L.geoJSON(fc, {
    style: { color: LAYER_COLOURS.plumes, weight: 1.5, fillOpacity: 0.05 },
    pointToLayer: (_f, ll) => L.circleMarker(ll, { radius: 5, color: LAYER_COLOURS.plumes }),
    onEachFeature: (f, layer) => {
      const p = props(f);
      const site = typeof p.site_id === "string" ? p.site_id : null;
      const popup = h(
        "div",
        null,
        rows([
          ["Plume", p.id],
          ["Flight", p.flight],
          ["Time", fmt.time(p.time as string)],
          ["Rate", fmt.rate(p.rate_kg_h as number, p.rate_lo_kg_h as number, p.rate_hi_kg_h as number)],
          ["Max. enhancement", `${numOr(p.max_ppm_m)} ppm·m`],
        ]),
        site ? h("button", { type: "button", class: "small", onclick: () => onSite(site) }, `Open site ${site}`) : null,
      );
      layer.bindPopup(popup);
      const image = p.image;
      const bounds = p.image_bounds as [[number, number], [number, number]] | null | undefined;
      if (typeof image === "string" && Array.isArray(bounds)) {
        blob(image)
          .then((b) => {
            const u = URL.createObjectURL(b);
            urls.push(u);
            L.imageOverlay(u, bounds, { opacity: 0.75, alt: `plume ${String(p.id)}` }).addTo(group);
          })
          .catch(() => undefined);
      }
    },
  }).addTo(group);
  return group;
}

export function insituLayer(fc: FeatureCollection): L.GeoJSON {
  return L.geoJSON(fc, {
    style: { color: LAYER_COLOURS.insitu, weight: 1.5, dashArray: "4 3", fillOpacity: 0.12 },
    pointToLayer: (_f, ll) => L.circleMarker(ll, { radius: 5, color: LAYER_COLOURS.insitu }),
    onEachFeature: (f, layer) => {
      const p = props(f);
      layer.bindPopup(
        rows([
          ["In-situ source", p.id],
          ["Site", p.site_id],
          ["Flight", p.flight],
          ["Time", fmt.time(p.time as string)],
          ["Rate", `${numOr(p.rate_kg_h)} kg/h`],
          ["68 % radius", fmt.metres(p.radius_m as number | null)],
        ]),
      );
    },
  });
}

export function siteRadius(confidence: unknown): number {
  const c = typeof confidence === "number" ? Math.min(Math.max(confidence, 0), 1) : 0;
  return 3 + 8 * c;
}

export function sitesLayer(fc: FeatureCollection, onSite: (id: string) => void): L.GeoJSON {
  return L.geoJSON(fc, {
    pointToLayer: (f, ll) => {
      const p = props(f);
      return L.circleMarker(ll, {
        radius: siteRadius(p.confidence),
        color: "#ffffff",
        weight: 1.5,
        fillColor: STATUS_COLOURS[String(p.status)] ?? "#000000",
        fillOpacity: 0.9,
        className: `site-marker site-${String(p.status)}`,
      });
    },
    onEachFeature: (f, layer) => {
      const p = props(f);
      // an element, not a string: Leaflet would parse a string as HTML
      layer.bindTooltip(h("span", null, `${String(p.id)} · ${String(p.status)} · ${fmt.pct(p.confidence as number)}`));
      layer.on("click", () => onSite(String(p.id)));
    },
  });
}

/** The legend: site colours by status, sizes by confidence, other layers' colours. */
export function legend(): L.Control {
  const control = new L.Control({ position: "bottomleft" });
  control.onAdd = () => {
    const dot = (colour: string, r: number) =>
      h("span", { class: "legend-dot", style: `background:${colour};width:${2 * r}px;height:${2 * r}px` });
    const line = (colour: string) => h("span", { class: "legend-line", style: `border-color:${colour}` });
    const div = h(
      "details",
      { class: "legend", open: true },
      h("summary", null, "Legend"),
      h("strong", null, "Sites (colour: status)"),
      Object.entries(STATUS_COLOURS)
        .filter(([s]) => s !== "merged")
        .map(([s, c]) => h("div", null, dot(c, 6), ` ${s}`)),
      h("strong", null, "Size: confidence"),
      h("div", null, dot("#888", siteRadius(0.2)), " 20 % ", dot("#888", siteRadius(0.9)), " 90 %"),
      h("strong", null, "Airspace"),
      h("div", null, h("span", { class: "legend-box", style: "background:#e9e4d4;border-color:#8a8170" }), " country (land + territorial sea)"),
      h("div", null, h("span", { class: "legend-box", style: "background:#cfe0ee;border-color:#5b8db8;border-style:dashed" }), " international"),
      h("div", null, h("span", { class: "legend-box", style: "border-color:#2e7d32;border-style:dotted" }), " operator's authorized area"),
      h("strong", null, "Layers"),
      (["tracks", "incursions", "plumes", "insitu"] as const).map((k) => h("div", null, line(LAYER_COLOURS[k]), ` ${LAYER_LABELS[k]}`)),
    );
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  return control;
}

/** Fit the map to the layers' extent (or the bbox), else leave the world view. */
export function fit(map: L.Map, groups: L.FeatureGroup[], bbox: number[] | null): void {
  const bounds = L.latLngBounds([]);
  for (const g of groups) {
    const b = g.getBounds();
    if (b.isValid()) bounds.extend(b);
  }
  if (bounds.isValid()) {
    map.fitBounds(bounds.pad(0.15), { maxZoom: 14 });
  } else if (bbox && bbox.length === 4) {
    map.fitBounds([
      [bbox[1]!, bbox[0]!],
      [bbox[3]!, bbox[2]!],
    ]);
  }
}

export function bboxOf(map: L.Map): string {
  const b = map.getBounds();
  const clamp = (v: number, lim: number) => Math.min(Math.max(v, -lim), lim);
  return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)]
    .map((v) => v.toFixed(5))
    .join(",");
}

export { L };
