// Page entry point (loaded as a module by index.html): start the app and expose it for tests.
import { startApp } from "./app.js";

startApp().then((app) => { window.gradtrace = app; }).catch((err) => {
  document.getElementById("run-status").textContent = `The page failed to start: ${err.message}`;
  throw err;
});
