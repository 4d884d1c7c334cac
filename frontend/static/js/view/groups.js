// Group boxes: an open module/call/iteration box with its title, or a closed block (class and path, parameter
// count, output shape; "Block ×n" for folded repeats) that opens on click, Enter or Space.
import * as d3 from "../../vendor/d3.js";
import { groupText } from "../model/modules.js";
import { lodText } from "../layout/sizes.js";

/** The <g> of group box `b` of group `grp`; `toggle()` opens or closes it. */
export function drawGroup(grp, b, toggle) {
  const el = d3.create("svg:g").attr("class", `group${b.collapsed ? " collapsed" : ""}${grp.call ? " call" : ""}${grp.fold ? " fold" : ""}`)
    .attr("data-group", grp.key);
  el.append("rect").attr("x", b.x).attr("y", b.y).attr("width", b.width).attr("height", b.height).attr("rx", 10);
  if (b.collapsed) {
    const t = groupText(grp);
    if (grp.fold) { // a stack of cards: the folded repeats
      for (const off of [6, 3]) el.insert("rect", ":first-child").attr("class", "stack").attr("x", b.x + off).attr("y", b.y - off)
        .attr("width", b.width).attr("height", b.height).attr("rx", 10);
    }
    el.attr("tabindex", 0).attr("role", "button").attr("aria-label", `${t.title}, ${t.sub}: open`);
    el.append("text").attr("class", "gtitle").attr("x", b.x + 14).attr("y", b.y + 28).text(`▸ ${t.title}`);
    el.append("text").attr("class", "gsub").attr("x", b.x + 14).attr("y", b.y + 51).text(t.sub);
    el.append("text").attr("class", "lodname").attr("x", b.x + b.width / 2).attr("y", b.y + b.height / 2).text(lodText({ type: "group", text: t }));
    el.on("click", (ev) => { ev.stopPropagation(); toggle(); });
    el.on("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); ev.stopPropagation(); toggle(); } });
  } else {
    const cls = grp.module?.cls ? ` · ${grp.module.cls}` : "";
    el.append("text").attr("class", "ghead").attr("x", b.x + 10).attr("y", b.y + 15).text(`▾ ${grp.label}${cls}`)
      .on("click", (ev) => { ev.stopPropagation(); toggle(); });
  }
  return el;
}

/** A closed group's one label and its box (semantic zoom; its title is never under 20 graph px). */
export const groupLab = (grp, b) => ({ text: lodText({ type: "group", text: groupText(grp) }), w: b.width, h: b.height, floor: 20 });

/** A node's (or a stub's) one zoomed-out label (its name), centred in its w×h box. */
export function addLodName(el, text, w, h) {
  el.append("text").attr("class", "lodname").attr("x", w / 2).attr("y", h / 2).text(text);
}
