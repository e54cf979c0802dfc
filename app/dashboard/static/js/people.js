// Names for developer ids (API keys' "created by", the audit log's actors).
import { useEffect, useState } from "../vendor/htm-preact-standalone.module.js";
import { request } from "./api.js";
import { fullName } from "./ui.js";

/** Loads the team once and returns `id → display name`; "you" for the signed-in developer. */
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
    if (me && id === me.id) return "you";
    return names[id] || `developer ${id.slice(0, 8)}`;
  };
}
