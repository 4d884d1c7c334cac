// Shared test helpers: load a tracer fixture and build the model objects from it.
import { readFileSync } from "node:fs";
import { buildGraph } from "../static/js/model/graph.js";
import { buildTimeline } from "../static/js/model/timeline.js";

export function fixture(name) {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"));
}

export function model(name) {
  const fx = fixture(name);
  const graph = buildGraph(fx.trace);
  const tl = buildTimeline(fx.trace, graph);
  return { ...fx, graph, tl };
}

export const flatOf = (v) => JSON.stringify(v?.values ?? null);
