// The legend: one sample of each node and edge style, drawn with the same classes as the graph.
import * as d3 from "../../vendor/d3.js";

const ITEMS = [
  ["tensor leaf", "leaf tensor (requires_grad)"],
  ["tensor intermediate", "intermediate tensor"],
  ["tensor output", "output (backward starts here)"],
  ["tensor constant", "no gradient tracking"],
  ["op op", "autograd node (grad_fn)"],
  ["op accumulate", "AccumulateGrad → leaf .grad"],
  ["op custom", "custom Function backward"],
];

export function drawLegend(el) {
  const svg = d3.select(el).append("svg").attr("width", 290).attr("height", ITEMS.length * 24 + 3 * 22 + 6);
  ITEMS.forEach(([cls, text], i) => {
    const g = svg.append("g").attr("class", `node ${cls}`).attr("transform", `translate(4,${4 + i * 24})`);
    const pill = cls.startsWith("op");
    g.append("rect").attr("class", "box").attr("width", 34).attr("height", 18).attr("rx", pill && !cls.includes("accumulate") ? 9 : 4);
    if (cls.includes("custom")) g.append("rect").attr("class", "box2").attr("x", 3).attr("y", 3).attr("width", 28).attr("height", 12).attr("rx", 6);
    svg.append("text").attr("x", 46).attr("y", 17 + i * 24).text(text);
  });
  const edges = [["edge data", "data flow (forward)"], ["edge untracked", "not tracked (no_grad, detach) ✂"], ["edge flowed", "gradient flow (backward)"]];
  edges.forEach(([cls, text], i) => {
    const y = ITEMS.length * 24 + 14 + i * 22;
    svg.append("g").attr("class", cls).append("path").attr("d", `M6,${y} H38`);
    svg.append("text").attr("x", 46).attr("y", y + 4).text(text);
  });
}
