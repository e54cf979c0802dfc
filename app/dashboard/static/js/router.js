// URLs are /dashboard/<page>; the server answers every one of them with the same shell,
// so links can be bookmarked and reloaded.
import { useEffect, useState } from "../vendor/htm-preact-standalone.module.js";

export const BASE = "/dashboard";
const NAVIGATED = "owa-navigate";

export function pagePath() {
  const path = location.pathname.slice(BASE.length).replace(/\/+$/, "");
  return path || "/";
}

export function navigate(path) {
  history.pushState(null, "", BASE + path);
  window.dispatchEvent(new Event(NAVIGATED));
}

export function usePagePath() {
  const [path, setPath] = useState(pagePath());
  useEffect(() => {
    const update = () => setPath(pagePath());
    window.addEventListener("popstate", update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return path;
}

// Same-document navigation for plain links inside the dashboard (modified clicks still
// open a new tab as usual).
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE) || url.hash) return;
  event.preventDefault();
  navigate(url.pathname.slice(BASE.length) || "/");
});
