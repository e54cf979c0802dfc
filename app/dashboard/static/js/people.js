// Names for ids: developers (API keys' "created by", the audit log) and applications.
import { useEffect, useState } from "../vendor/htm-preact-standalone.module.js";
import { request } from "./api.js";
import { fullName } from "./ui.js";

/** Loads the team once and returns `id → display name`. */
export function useDevelopers(me) {
  const [names, setNames] = useState({});
  useEffect(() => {
    request("/api/v1/developers", { query: { limit: 100 } }).then(
      (page) => setNames(Object.fromEntries(page.items.map((developer) => [developer.id, fullName(developer)]))),
      () => setNames({}),
    );
  }, []);
  return (id) => {
    if (!id) return "—";
    if (me && id === me.id) return fullName(me);
    return names[id] || `developer ${id.slice(0, 8)}`;
  };
}

/** Loads the applications once and returns `app_id → "name (app_id)"`. */
export function useApplications() {
  const [names, setNames] = useState({});
  useEffect(() => {
    request("/api/v1/applications", { query: { limit: 100 } }).then(
      (page) => setNames(Object.fromEntries(page.items.map((application) => [application.app_id, application.name]))),
      () => setNames({}),
    );
  }, []);
  return (appId) => (names[appId] ? `${names[appId]} (${appId})` : appId);
}
