// The standalone HTML file's one script (IIFE, inlined by gradtrace.export): the page's model/ and view/
// modules plus the standalone wiring; its CSS (app + graph + standalone) comes out as standalone.css.
import "../static/css/app.css";
import "../static/css/graph.css";
import "../static/css/levels.css";
import "../static/css/loops.css";
import "../static/css/teach.css";
import "../static/css/screens.css";
import "../static/css/standalone.css";
import { startStandalone } from "../static/js/standalone.js";

window.gradtrace = { ready: startStandalone(document).then((app) => Object.assign(window.gradtrace, app)) };
window.gradtrace.ready.catch((err) => {
  const status = document.getElementById("run-status");
  if (status) { status.textContent = `The animation failed to start: ${err.message}`; status.className = "run-status error"; }
  throw err;
});
