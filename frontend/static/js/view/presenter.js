// Presenter mode: large type and high contrast for a lecture hall (class on <html>; CSS in presenter.css).

/** Wire the toggle button; `onChange(on)` after every switch (e.g. refit the graph, update the URL). */
export function initPresenter(doc, button, onChange = () => {}) {
  const html = doc.documentElement;
  function set(on) {
    html.classList.toggle("presenter", on);
    button?.setAttribute("aria-pressed", String(on));
    onChange(on);
  }
  button?.addEventListener("click", () => set(!html.classList.contains("presenter")));
  return { set, get: () => html.classList.contains("presenter") };
}
