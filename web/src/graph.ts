// The link graph drawn as SVG with a small force layout (no library).

import { svg } from "./dom";
import type { Graph, GraphNode } from "./types";
import { STATUS_COLOURS } from "./view";

interface Point {
  x: number;
  y: number;
}

/** Positions for the nodes: the focus node in the centre, the others spread by forces. */
export function layout(graph: Graph, width: number, height: number, focus?: string): Map<string, Point> {
  const n = graph.nodes.length;
  const pos = new Map<string, Point>();
  graph.nodes.forEach((node, i) => {
    const a = (2 * Math.PI * i) / Math.max(n, 1);
    pos.set(node.id, node.id === focus ? { x: width / 2, y: height / 2 } : { x: width / 2 + (width / 3) * Math.cos(a), y: height / 2 + (height / 3) * Math.sin(a) });
  });
  const k = Math.sqrt((width * height) / Math.max(n, 1)) * 0.6;
  let temperature = width / 8;
  for (let iter = 0; iter < 250; iter++) {
    const disp = new Map<string, Point>(graph.nodes.map((v) => [v.id, { x: 0, y: 0 }]));
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const a = pos.get(graph.nodes[i]!.id)!;
        const b = pos.get(graph.nodes[j]!.id)!;
        const dx = a.x - b.x || 0.01;
        const dy = a.y - b.y || 0.01;
        const d = Math.max(Math.hypot(dx, dy), 0.01);
        const f = (k * k) / d;
        const da = disp.get(graph.nodes[i]!.id)!;
        const db = disp.get(graph.nodes[j]!.id)!;
        da.x += (dx / d) * f;
        da.y += (dy / d) * f;
        db.x -= (dx / d) * f;
        db.y -= (dy / d) * f;
      }
    }
    for (const e of graph.edges) {
      const a = pos.get(e.source);
      const b = pos.get(e.target);
      if (!a || !b) continue;
      const dx = a.x - b.x;
      const dy = a.y - b.y;
      const d = Math.max(Math.hypot(dx, dy), 0.01);
      const f = (d * d) / k;
      const da = disp.get(e.source)!;
      const db = disp.get(e.target)!;
      da.x -= (dx / d) * f;
      da.y -= (dy / d) * f;
      db.x += (dx / d) * f;
      db.y += (dy / d) * f;
    }
    for (const v of graph.nodes) {
      if (v.id === focus) continue;
      const p = pos.get(v.id)!;
      const d = disp.get(v.id)!;
      const len = Math.max(Math.hypot(d.x, d.y), 0.01);
      p.x = Math.min(width - 60, Math.max(60, p.x + (d.x / len) * Math.min(len, temperature)));
      p.y = Math.min(height - 30, Math.max(30, p.y + (d.y / len) * Math.min(len, temperature)));
    }
    temperature *= 0.98;
  }
  return pos;
}

function href(node: GraphNode): string | null {
  if (node.type === "site") return `#/site/${encodeURIComponent(node.id)}`;
  if (node.type === "organization") return `#/org/${encodeURIComponent(node.id)}`;
  return null;
}

function shape(node: GraphNode, p: Point): SVGElement {
  if (node.type === "organization") {
    return svg("rect", { x: p.x - 9, y: p.y - 9, width: 18, height: 18, class: "g-org", transform: `rotate(45 ${p.x} ${p.y})` });
  }
  if (node.type === "site") {
    return svg("circle", { cx: p.x, cy: p.y, r: 8, class: "g-site", fill: STATUS_COLOURS[node.status ?? ""] ?? "#555" });
  }
  return svg("rect", { x: p.x - 6, y: p.y - 6, width: 12, height: 12, class: "g-report" });
}

/** The graph as an SVG element (organizations ◆, sites ● by status, reports ■). */
export function drawGraph(graph: Graph, focus?: string, width = 760, height = 420): SVGElement {
  const pos = layout(graph, width, height, focus);
  const byId = new Map(graph.nodes.map((v) => [v.id, v]));
  return svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, class: "graph", role: "img", "aria-label": `Link graph: ${graph.nodes.length} nodes, ${graph.edges.length} links` },
    graph.edges.map((e) => {
      const a = pos.get(e.source);
      const b = pos.get(e.target);
      if (!a || !b) return null;
      return svg(
        "line",
        { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: `g-edge g-edge-${e.type}`, "stroke-width": 1 + 3 * (e.weight ?? 0.3) },
        svg("title", null, `${e.type}${e.weight === undefined ? "" : ` (${Math.round(e.weight * 100)} %)`}`),
      );
    }),
    [...byId.values()].map((node) => {
      const p = pos.get(node.id)!;
      const body = [
        shape(node, p),
        svg("text", { x: p.x + 12, y: p.y + 4, class: `g-label${node.id === focus ? " g-focus" : ""}` }, node.label),
        svg("title", null, `${node.type}: ${node.label}${node.status ? ` (${node.status})` : ""}`),
      ];
      const link = href(node);
      return link ? svg("a", { href: link }, body) : svg("g", null, body);
    }),
  );
}
