// Small shared pieces: form fields, errors, dialogs, secrets shown once, pagers, dates.
import { html, useCallback, useEffect, useRef, useState } from "../vendor/htm-preact-standalone.module.js";

let nextId = 0;
/** A stable id for label/input pairs. */
export function useId(prefix) {
  const ref = useRef(null);
  if (ref.current === null) ref.current = `${prefix}-${++nextId}`;
  return ref.current;
}

/** Runs `load` when `deps` change; `{ data, error, loading, reload }`. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, error: null, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error) => mine === generation.current && setState({ data: null, error, loading: false }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** Runs an action for a form: `{ busy, error, run }`; `run` resolves to the result or null. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = useCallback(async (action) => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (caught) {
      setError(caught);
      return null;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}

export function errorSentence(error) {
  if (!error) return null;
  return error.sentence || error.message || String(error);
}

export function ErrorText({ error }) {
  const sentence = errorSentence(error);
  return sentence ? html`<p class="error" role="alert">${sentence}</p>` : null;
}

export function Field({ label, type = "text", value, onInput, error, field, hint, ...rest }) {
  const id = useId("field");
  const fieldError = error && error.fieldError ? error.fieldError(field) : null;
  const describedBy = [hint && `${id}-hint`, fieldError && `${id}-error`].filter(Boolean).join(" ");
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <input id=${id} type=${type} value=${value} onInput=${(event) => onInput(event.target.value)}
        aria-invalid=${fieldError ? "true" : undefined}
        aria-describedby=${describedBy || undefined} ...${rest} />
      ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
      ${fieldError && html`<p class="error" id=${`${id}-error`}>${fieldError}</p>`}
    </div>`;
}

export function TextArea({ label, value, onInput, error, field, hint, ...rest }) {
  const id = useId("text");
  const fieldError = error && error.fieldError ? error.fieldError(field) : null;
  const describedBy = [hint && `${id}-hint`, fieldError && `${id}-error`].filter(Boolean).join(" ");
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <textarea id=${id} value=${value} onInput=${(event) => onInput(event.target.value)}
        aria-invalid=${fieldError ? "true" : undefined}
        aria-describedby=${describedBy || undefined} ...${rest}></textarea>
      ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
      ${fieldError && html`<p class="error" id=${`${id}-error`}>${fieldError}</p>`}
    </div>`;
}

export function Select({ label, value, onInput, options }) {
  const id = useId("select");
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <select id=${id} value=${value} onChange=${(event) => onInput(event.target.value)}>
        ${options.map(([optionValue, text]) => html`<option value=${optionValue}>${text}</option>`)}
      </select>
    </div>`;
}

export function Checkbox({ label, value, onInput }) {
  const id = useId("check");
  return html`
    <div class="field checkbox">
      <input id=${id} type="checkbox" checked=${value} onChange=${(event) => onInput(event.target.checked)} />
      <label for=${id}>${label}</label>
    </div>`;
}

/** A modal `<dialog>`: focus moves into it, Escape closes it. */
export function Dialog({ title, onClose, children }) {
  const ref = useRef(null);
  const titleId = useId("dialog-title");
  useEffect(() => {
    const dialog = ref.current;
    dialog.showModal();
    const cancel = (event) => {
      event.preventDefault();
      onClose();
    };
    dialog.addEventListener("cancel", cancel);
    return () => {
      dialog.removeEventListener("cancel", cancel);
      if (dialog.open) dialog.close();
    };
  }, []);
  return html`
    <dialog ref=${ref} aria-labelledby=${titleId}>
      <h2 id=${titleId}>${title}</h2>
      ${children}
    </dialog>`;
}

/** A dialog holding one form: its fields, the error, the submit and Cancel buttons. */
export function FormDialog({ title, submitLabel, onSubmit, onClose, busy, error, danger = false, children }) {
  const submit = (event) => {
    event.preventDefault();
    onSubmit();
  };
  return html`
    <${Dialog} title=${title} onClose=${onClose}>
      <form onSubmit=${submit} class="stack">
        ${children}
        <${ErrorText} error=${error} />
        <div class="actions">
          <button type="submit" class=${danger ? "danger" : "primary"} disabled=${busy}>${submitLabel}</button>
          <button type="button" onClick=${onClose}>Cancel</button>
        </div>
      </form>
    <//>`;
}

/** What an action returned once (secrets, links), and a Done button. */
export function ResultDialog({ title, onClose, children }) {
  return html`
    <${Dialog} title=${title} onClose=${onClose}>
      ${children}
      <div class="actions"><button type="button" class="primary" onClick=${onClose}>Done</button></div>
    <//>`;
}

/** Asks before a destructive action; shows its error in place. Closes once `onConfirm`
 * succeeds, unless `keepOpen` (the caller then shows what the action returned). */
export function ConfirmDialog({ title, message, confirmLabel, onConfirm, onClose, keepOpen = false, children }) {
  const { busy, error, run } = useAction();
  const confirm = async () => {
    const result = await run(onConfirm);
    if (result !== null && !keepOpen) onClose();
  };
  return html`
    <${FormDialog} title=${title} submitLabel=${confirmLabel} onSubmit=${confirm} onClose=${onClose}
      busy=${busy} error=${error} danger>
      <p>${message}</p>
      ${children}
    <//>`;
}

/** A secret the API shows once: read-only, a copy button, and a plain warning. */
export function SecretOnce({ label, value }) {
  const id = useId("secret");
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    const input = document.getElementById(id);
    input.select();
    // The Clipboard API needs a secure context; plain HTTP falls back to the selection.
    if (navigator.clipboard) await navigator.clipboard.writeText(value);
    else document.execCommand("copy");
    setCopied(true);
  };
  return html`
    <div class="secret">
      <label for=${id}>${label}</label>
      <div class="secret-row">
        <input id=${id} readonly value=${value} onFocus=${(event) => event.target.select()} />
        <button type="button" onClick=${copy} aria-label=${`Copy ${label}`}>Copy</button>
      </div>
      <p class="warning">${copied ? "Copied. " : ""}Store it now: you will not see it again.</p>
    </div>`;
}

/** A table with a header row; `actions` adds a column for each row's buttons. */
export function Table({ columns, actions = false, children }) {
  return html`
    <div class="table-wrap"><table>
      <thead><tr>
        ${columns.map((column) => html`<th scope="col">${column}</th>`)}
        ${actions && html`<th scope="col"><span class="visually-hidden">Actions</span></th>`}
      </tr></thead>
      <tbody>${children}</tbody>
    </table></div>`;
}

/** While a `useLoad` result is loading, failed or empty: what to show instead of it. */
export function pending(load, what, isEmpty, empty) {
  if (load.loading && !load.data) return html`<${Loading} what=${what} />`;
  if (load.error) return html`<${ErrorText} error=${load.error} />`;
  if (isEmpty(load.data)) return html`<${Empty}>${empty}<//>`;
  return null;
}

export function Loading({ what }) {
  return html`<p class="loading" role="status">Loading ${what}…</p>`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}

/** Previous / next for the `{items, page, pages, has_next, has_prev}` envelope. */
export function PagePager({ data, onPage }) {
  if (!data || data.pages <= 1) return null;
  return html`
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled=${!data.has_prev} onClick=${() => onPage(data.page - 1)}>Previous page</button>
      <span>Page ${data.page} of ${data.pages} (${data.total} in all)</span>
      <button type="button" disabled=${!data.has_next} onClick=${() => onPage(data.page + 1)}>Next page</button>
    </nav>`;
}

/** Cursor pages only go forward; the cursors seen so far make "Previous" possible. */
export function useCursorPages(resetDeps) {
  const [cursors, setCursors] = useState([null]);
  useEffect(() => setCursors([null]), resetDeps);
  const cursor = cursors[cursors.length - 1];
  return {
    cursor,
    pageNumber: cursors.length,
    next: (nextCursor) => setCursors([...cursors, nextCursor]),
    previous: () => setCursors(cursors.slice(0, -1)),
  };
}

export function CursorPager({ pages, pagination }) {
  if (!pagination || (pages.pageNumber === 1 && !pagination.has_more)) return null;
  return html`
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled=${pages.pageNumber === 1} onClick=${pages.previous}>Previous page</button>
      <span>Page ${pages.pageNumber}</span>
      <button type="button" disabled=${!pagination.has_more} onClick=${() => pages.next(pagination.next_cursor)}>Next page</button>
    </nav>`;
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function relativeTime(iso) {
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return relative.format(Math.round(seconds / size), unit);
    }
  }
  return "";
}

const absolute = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

/** A `<time>` showing "3 minutes ago", the exact moment in its tooltip. */
export function When({ iso, empty = "never" }) {
  if (!iso) return html`<span class="muted">${empty}</span>`;
  return html`<time datetime=${iso} title=${absolute.format(new Date(iso))}>${relativeTime(iso)}</time>`;
}

export function formatDate(iso) {
  return iso ? absolute.format(new Date(iso)) : "—";
}

const day = new Intl.DateTimeFormat("en", { dateStyle: "medium" });

export function formatDay(iso) {
  return iso ? day.format(new Date(iso)) : "—";
}

export function fullName(person) {
  const name = [person.first_name, person.last_name].filter(Boolean).join(" ");
  return name || person.email || "";
}
