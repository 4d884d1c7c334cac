// All of D3 v7 as one ES module, so the page imports it without a bundler or a CDN.
export * from "d3";
