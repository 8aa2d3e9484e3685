// The operations page: three views fed by GraphQL subscriptions over /graphql/ws
// (graphql-transport-ws, the token in connection_init), as GraphiQL signs in: the token
// comes from `?token=` or the form, and is kept for this tab only (sessionStorage).
"use strict";

const $ = (id) => document.getElementById(id);
const text = (value) => document.createTextNode(value == null ? "" : String(value));
const row = (cells, className) => {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    td.appendChild(text(cell));
    tr.appendChild(td);
  }
  if (className) tr.className = className;
  return tr;
};

function token() {
  const fromLink = new URLSearchParams(location.search).get("token");
  if (fromLink) {
    sessionStorage.setItem("clientele-token", fromLink);
    // Keep the token out of the address bar and the history.
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("clientele-token");
}

function showCounts(counts) {
  const box = $("counts");
  box.replaceChildren();
  for (const { status, count } of counts) {
    const div = document.createElement("div");
    div.className = "count";
    div.dataset.status = status;
    const b = document.createElement("b");
    b.appendChild(text(count));
    div.append(b, text(status));
    box.appendChild(div);
  }
}

let openRequests = [];
function left(due) {
  const ms = new Date(due).getTime() - Date.now();
  if (ms <= 0) return "due";
  const h = Math.floor(ms / 3600000);
  const d = Math.floor(h / 24);
  const m = Math.floor((ms % 3600000) / 60000);
  return d > 0 ? `${d} d ${h % 24} h` : `${h} h ${m} min`;
}
function showRequests() {
  $("requests").replaceChildren(
    ...openRequests.map((edge) =>
      row(
        [edge.customer ? edge.customer.name : edge.node.customerId, edge.node.dueAt, left(edge.node.dueAt), edge.node.reason],
        new Date(edge.node.dueAt).getTime() - Date.now() < 86400000 ? "soon" : "",
      ),
    ),
  );
}

const events = [];
// Names seen in creations and edits, so the events read as customers, not ids.
const names = new Map();
function showEvent(event) {
  const payload = event.payload || {};
  const profile = payload.profile || payload.changes || {};
  if (typeof profile.name === "string") names.set(event.customerId, profile.name);
  events.unshift(event);
  events.length = Math.min(events.length, 20);
  const name = (e) => (names.has(e.customerId) ? `${names.get(e.customerId)} (${e.customerId})` : e.customerId);
  $("events").replaceChildren(...events.map((e) => row([e.occurredAt, e.type, name(e), e.actor])));
}

function start(bearer) {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql/ws`;
  const client = graphqlWs.createClient({
    url,
    connectionParams: { Authorization: `Bearer ${bearer}` },
    retryAttempts: Infinity,
    on: {
      connected: () => ($("status").textContent = "live"),
      closed: (event) => {
        $("status").textContent = `disconnected (${event.code || ""})`;
        if (event.code === 4401 || event.code === 4403) {
          sessionStorage.removeItem("clientele-token");
          $("signin").classList.remove("hidden");
        }
      },
    },
  });
  const follow = (query, next) =>
    client.subscribe({ query }, {
      next: (result) => (result.errors ? ($("status").textContent = result.errors[0].message) : next(result.data)),
      error: (error) => ($("status").textContent = `error: ${error.message || error}`),
      complete: () => {},
    });
  const refreshRequests = () =>
    follow(
      "{ deletionRequests(filter: { status: OPEN }, first: 50) { edges { node { customerId dueAt reason } customer { name } } } }",
      (data) => {
        openRequests = data.deletionRequests.edges;
        showRequests();
      },
    );
  follow("subscription { customerCountsByStatus { status count } }", (data) => showCounts(data.customerCountsByStatus));
  follow("subscription { customerEvents { cursor type customerId occurredAt actor payload } }", (data) => {
    const event = data.customerEvents;
    showEvent(event);
    if (/Deletion|Deleted/.test(event.type)) refreshRequests();
  });
  refreshRequests();
  setInterval(showRequests, 1000);
}

const bearer = token();
if (bearer) {
  start(bearer);
} else {
  $("signin").classList.remove("hidden");
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("clientele-token", $("token").value.trim());
    location.reload();
  });
}
