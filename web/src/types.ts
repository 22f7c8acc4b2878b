// Shapes of the API's JSON (only the fields the workbench uses).

import type { FeatureCollection as FC, Geometry } from "geojson";

export interface SiteRow {
  id: string;
  lat: number;
  lon: number;
  uncertainty_m: number;
  confidence: number;
  status: string;
  n_detections: number;
  n_reports: number;
  first_seen: string | null;
  last_seen: string | null;
  rate_kg_h: number | null;
  rate_lo_kg_h: number | null;
  rate_hi_kg_h: number | null;
  exposure: string | null;
  n_passes: number;
  n_passes_detected: number;
  priority: number;
  assignee_id: string | null;
  version: number;
}

export interface SiteContext {
  people_100m: number | null;
  people_500m: number | null;
  in_building: boolean | null;
  residential: boolean | null;
  building_distance_m: number | null;
  nearest_school_m: number | null;
  nearest_hospital_m: number | null;
  exposure: string;
  advisory: string;
}

export interface SiteDetail extends SiteRow {
  merged_into: string | null;
  context: SiteContext | null;
  created: string;
  updated: string;
  detections: {
    id: string;
    flight_id: string;
    time: string;
    kind: string;
    gas: string;
    rate_kg_h: number | null;
    rate_lo_kg_h: number | null;
    rate_hi_kg_h: number | null;
    uncertainty_m: number;
    score: number | null;
    has_image: boolean;
  }[];
  reports: {
    id: string;
    time: string | null;
    text: string;
    uncertainty_m: number | null;
    source_reliability: string | null;
    credibility: string | null;
    organization_id: string | null;
  }[];
  evidence: { kind: string; evidence_id: string; distance_m: number; weight: number; reason: string; time: string }[];
  passes: { flight_id: string; time: string; detected: boolean }[];
  reviews: { id: string; decision: string; note: string; time: string; user: string }[];
  assignments: { id: string; time: string; active: boolean; user: string }[];
  attributions: { id: string; organization_id: string; organization: string; confidence: number; basis: string; time: string }[];
  attachments: { id: string; sha256: string; filename: string; media_type: string; size: number; time: string }[];
  collection_requests: { id: string; status: string; time: string; radius_m: number | null; note: string }[];
}

export interface Organization {
  id: string;
  name: string;
  aliases: string[];
  version: number;
  n_designations?: number;
  n_sites: number;
}

export interface Designation {
  id: string;
  authority: string;
  designation: string;
  date: string;
  reference: string;
}

export interface OrganizationDetail extends Organization {
  designations: Designation[];
}

export interface OrgSite {
  id: string;
  lat: number;
  lon: number;
  uncertainty_m: number;
  status: string;
  confidence: number;
  attribution_confidence: number | null;
  basis: string | null;
  via: string;
}

export interface GraphNode {
  id: string;
  type: string;
  label: string;
  status?: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: { source: string; target: string; type: string; weight?: number }[];
}

export interface ReleasedSite {
  uid: string;
  lat: number;
  lon: number;
  uncertainty_m: number;
  first_seen: string | null;
  last_seen: string | null;
  n_observations: number;
  rate_lo_kg_h: number | null;
  rate_hi_kg_h: number | null;
  gas: string | null;
  observed: string;
  exposure: string | null;
  advisory: string | null;
  organizations: unknown[];
}

export interface ReleasableLead {
  id: string;
  partner_id: string;
  partner_name: string;
  producer: string;
  tlp: string;
  title: string;
  summary: string;
  recommended_action: string;
  released: string | null;
  sites: ReleasedSite[];
}

export interface Redaction {
  withheld: Record<string, number>;
  scrubbed: Record<string, number>;
}

export interface LeadRow {
  id: string;
  partner: string;
  status: string;
  state: string;
  tlp: string;
  title: string;
  sites: string[];
  drafted_by: string;
  drafted: string;
  approved_by: string | null;
  released: string | null;
  acknowledged: string | null;
  feedback: string | null;
  outcome: string | null;
  action_date: string | null;
}

export interface LeadEvent {
  kind: string;
  time: string;
  recorded: string;
  channel: string;
  user: string | null;
  outcome: string | null;
  text: string;
}

export interface LeadDetail extends LeadRow {
  summary: string;
  recommended_action: string;
  internal_note: string;
  outcome_text: string;
  release: ReleasableLead | null;
  redaction: Redaction | null;
  events: LeadEvent[];
}

export interface Partner {
  id: string;
  name: string;
  country: string | null;
  policy: { tlp: string };
}

export interface MetricSummary {
  released: number;
  acknowledged: number;
  substantive_feedback: number;
  response_rate: number | null;
  acted: number;
  verified: number;
  median_days_to_acknowledgement: number | null;
  median_days_to_action: number | null;
  median_days_to_verification: number | null;
  overdue: number;
}

export interface Metrics {
  now: string;
  overall: MetricSummary;
  partners: Record<string, MetricSummary>;
  months: Record<string, MetricSummary>;
  leads: { id: string; partner: string; state: string; overdue: string | null; released: string | null; outcome: string | null }[];
}

export interface PartnerLead {
  lead: ReleasableLead;
  state: string;
  acknowledged: string | null;
  feedback: string | null;
  outcome: string | null;
  outcome_text: string;
  action_date: string | null;
}

export type FeatureCollection = FC<Geometry, Record<string, unknown>>;

export interface MapLayers {
  bbox: [number, number, number, number] | null;
  basemap: string | null;
  layers: Record<"zones" | "tracks" | "incursions" | "plumes" | "insitu" | "sites", FeatureCollection>;
}
