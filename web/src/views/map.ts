// The map: airspace zones, flight tracks and incursions, plumes (with images), in-situ
// source regions and sites, with layer toggles and a legend; a site opens its dossier.

import { get, message } from "../api";
import { h, heading, notice } from "../dom";
import {
  L,
  LAYER_LABELS,
  bboxOf,
  createMap,
  fetchLayers,
  fit,
  incursionsLayer,
  insituLayer,
  legend,
  plumesLayer,
  sitesLayer,
  tracksLayer,
  zonesLayer,
  type LayerName,
} from "../mapbase";
import { go, path } from "../router";
import type { FeatureCollection, MapLayers, SiteRow } from "../types";
import type { ViewContext } from "../view";

const ORDER: LayerName[] = ["zones", "tracks", "incursions", "plumes", "insitu", "sites"];

function sitesAsFeatures(sites: SiteRow[]): FeatureCollection {
  return {
    type: "FeatureCollection",
    features: sites.map((s) => ({
      type: "Feature",
      geometry: { type: "Point", coordinates: [s.lon, s.lat] },
      properties: { ...s },
    })),
  };
}

/** "#/map/LAT/LON/ZOOM" opens the map there (a dossier's "Show on the map"). */
export function focusOf(params: string[]): { lat: number; lon: number; zoom: number } | null {
  if (params.length !== 3) return null;
  const [lat, lon, zoom] = params.map(Number) as [number, number, number];
  const ok = Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && zoom >= 1 && zoom <= 19;
  return ok ? { lat, lon, zoom: Math.round(zoom) } : null;
}

export async function renderMap(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const focus = focusOf(ctx.params);
  const n = notice();
  const status = h("span", { class: "muted", id: "map-status" });
  const reloadArea = h("button", { type: "button", class: "secondary" }, "Load this area");
  const el = h("div", { class: "map", id: "map", role: "region", "aria-label": "Map of sites, plumes and flights" });
  main.append(heading("Map", status, reloadArea), n.el, el);

  const map = createMap(el);
  const urls: string[] = [];
  ctx.cleanup(() => {
    map.remove();
    urls.forEach((u) => URL.revokeObjectURL(u));
  });
  legend().addTo(map);
  const onSite = (id: string) => go(path("site", id));
  let control: L.Control.Layers | null = null;
  let groups: L.FeatureGroup[] = [];
  let base: L.Layer | null = null;

  function show(layers: Partial<MapLayers["layers"]>, basemap: string | null, bbox: number[] | null, refit: boolean): void {
    control?.remove();
    groups.forEach((g) => g.remove());
    base?.remove();
    const bases: Record<string, L.Layer> = {};
    const plain = L.layerGroup();
    bases["Plain background"] = plain;
    plain.addTo(map);
    base = plain;
    if (basemap) {
      const tiles = L.tileLayer(basemap, { maxZoom: 19, attribution: "basemap" });
      bases["Basemap"] = tiles;
      tiles.addTo(map);
      plain.remove();
      base = tiles;
    }
    const overlays: Record<string, L.Layer> = {};
    groups = [];
    // the view fits the sites and plumes (else tracks): zones and long tracks are context
    const subject: L.FeatureGroup[] = [];
    const context: L.FeatureGroup[] = [];
    for (const name of ORDER) {
      const fc = layers[name];
      if (!fc) continue;
      const layer =
        name === "zones"
          ? zonesLayer(fc)
          : name === "tracks"
            ? tracksLayer(fc)
            : name === "incursions"
              ? incursionsLayer(fc)
              : name === "plumes"
                ? plumesLayer(fc, urls, onSite)
                : name === "insitu"
                  ? insituLayer(fc)
                  : sitesLayer(fc, onSite);
      layer.addTo(map);
      groups.push(layer);
      if (name === "sites" || name === "plumes" || name === "insitu") subject.push(layer);
      else if (name !== "zones") context.push(layer);
      overlays[`${LAYER_LABELS[name]} (${fc.features.length})`] = layer;
    }
    control = L.control.layers(bases, overlays, { collapsed: false, position: "topright" }).addTo(map);
    if (refit) fit(map, subject.some((g) => g.getLayers().length) ? subject : context, bbox);
  }

  async function load(bbox?: string): Promise<void> {
    status.textContent = "Loading…";
    try {
      const answer = await fetchLayers(bbox);
      if (answer === null) {
        n.info("The map layers service (/api/map/layers) is not available on this server yet: only sites are shown.");
        const sites = (await get<{ sites: SiteRow[] }>("/api/sites?limit=5000")).sites;
        show({ sites: sitesAsFeatures(sites) }, null, null, bbox === undefined);
        status.textContent = `${sites.length} site(s)`;
        return;
      }
      show(answer.layers, answer.basemap, answer.bbox, bbox === undefined && focus === null);
      if (bbox === undefined && focus !== null) map.setView([focus.lat, focus.lon], focus.zoom);
      status.textContent = `${answer.layers.sites.features.length} site(s), ${answer.layers.tracks.features.length} track(s)`;
    } catch (err) {
      status.textContent = "";
      n.error(`Could not load the map layers: ${message(err)}`);
    }
  }

  reloadArea.addEventListener("click", () => void load(bboxOf(map)));
  await load();
}
