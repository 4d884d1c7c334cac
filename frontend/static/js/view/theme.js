// Light/dark theme on <html data-theme>, remembered in localStorage, defaulting to the OS preference.
const KEY = "gradtrace-theme";

export function initTheme(button) {
  const saved = safeGet();
  const dark = saved ? saved === "dark" : window.matchMedia?.("(prefers-color-scheme: dark)").matches;
  apply(dark ? "dark" : "light", button);
  button?.addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    apply(next, button);
    try { localStorage.setItem(KEY, next); } catch { /* private mode: not remembered */ }
  });
}

function apply(theme, button) {
  document.documentElement.dataset.theme = theme;
  button?.setAttribute("aria-pressed", String(theme === "dark"));
}

function safeGet() {
  try { return localStorage.getItem(KEY); } catch { return null; }
}
