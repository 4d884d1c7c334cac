// Downloads of the current view: SVG (styles inlined by svg-export.js), PNG (that SVG drawn on a canvas)
// and any Blob (the server's standalone HTML file).
import { exportSvg } from "./svg-export.js";

const MAX_SIDE = 16_000; // canvas limits: past these Chromium gives a blank or no image
const MAX_AREA = 60e6;

/** The whole graph as SVG text. Fits it first (culled elements come back), then restores the user's view. */
export function graphSvg(view, layout, root, title = "") {
  const before = view.transform;
  view.complete?.(); // big graphs draw nodes' insides lazily: a picture needs them all
  view.fit();
  try {
    const background = root.ownerDocument.defaultView.getComputedStyle(root).backgroundColor;
    return '<?xml version="1.0" encoding="UTF-8"?>\n'
      + exportSvg(view.svg, { width: layout.width, height: layout.height, title, background }) + "\n";
  } finally {
    view.restore(before);
  }
}

/** Rasterize SVG text at up to `scale`× (sharp on projectors), within the browser's canvas limits. */
export async function svgToPng(doc, svgText, scale = 2) {
  const m = /<svg\b[^>]*?\swidth="(\d+)"[^>]*?\sheight="(\d+)"/.exec(svgText);
  const w = Number(m?.[1] || 800), h = Number(m?.[2] || 600);
  const k = Math.max(0.05, Math.min(scale, MAX_SIDE / w, MAX_SIDE / h, Math.sqrt(MAX_AREA / (w * h))));
  const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = doc.createElement("canvas");
    canvas.width = Math.round(w * k);
    canvas.height = Math.round(h * k);
    canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("the image is too big to draw"))), "image/png"));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Save a Blob under `name` through a temporary <a download>. */
export function saveBlob(doc, blob, name) {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  doc.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** "Chain rule!" → "gradtrace-chain-rule" (file names of downloads). */
export function baseName(title) {
  const slug = String(title || "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
  return `gradtrace-${slug || "graph"}`;
}
