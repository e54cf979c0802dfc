// End users: searchable, paginated.
import { html, useState } from "../../vendor/htm-preact-standalone.module.js";
import { request } from "../api.js";
import { Field, PagePager, Table, When, fullName, pending, useLoad } from "../ui.js";

export function UsersPage() {
  const [draft, setDraft] = useState("");
  const [search, setSearch] = useState("");
  const [page, setPage] = useState(1);
  const users = useLoad(() => request("/api/v1/users", { query: { page, limit: 20, search } }), [page, search]);
  const submit = (event) => {
    event.preventDefault();
    setPage(1);
    setSearch(draft.trim());
  };

  const content =
    pending(users, "users", (data) => data.total === 0,
      search
        ? html`No user matches “${search}”.`
        : html`No users yet. Your back end creates them with <code>POST /api/v1/users</code>.`) ||
    html`
      <${Table} columns=${["User", "Email", "External ID", "Created"]}>
        ${users.data.items.map(
          (user) => html`<tr key=${user.id}>
            <th scope="row"><a href=${`/dashboard/users/${user.id}`}>${fullName(user) || user.id}</a></th>
            <td>${user.email || html`<span class="muted">—</span>`}</td>
            <td>${user.external_user_id || html`<span class="muted">—</span>`}</td>
            <td><${When} iso=${user.created_at} /></td>
          </tr>`,
        )}
      <//>
      <${PagePager} data=${users.data} onPage=${setPage} />`;

  return html`
    <h1>Users</h1>
    <form class="inline" role="search" onSubmit=${submit}>
      <${Field} label="Search users" type="search" value=${draft} onInput=${setDraft}
        hint="Name, e-mail or external ID." />
      <button type="submit">Search</button>
    </form>
    ${content}`;
}
