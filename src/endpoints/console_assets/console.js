// The console page's behaviour. Every value from the server is inserted as text, never as HTML.
"use strict";

const state = { token: sessionStorage.getItem("console-token") || "" };

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (state.token) h["Authorization"] = "Bearer " + state.token;
  return h;
}

function text(tag, value) {
  const node = document.createElement(tag);
  node.textContent = value == null ? "" : String(value);
  return node;
}

function setStatus(message) {
  document.getElementById("status").textContent = message;
}

async function getJson(path) {
  const response = await fetch(path, { headers: headers(), cache: "no-store" });
  if (response.status === 401) {
    document.getElementById("token-form").hidden = false;
    throw new Error("a console token is required");
  }
  if (!response.ok) throw new Error(path + " answered " + response.status);
  return response.json();
}

async function decide(requestId, decision, button) {
  button.disabled = true;
  const response = await fetch("/console/decisions", {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify({ request_id: requestId, decision: decision }),
  });
  setStatus(decision + " → HTTP " + response.status);
  await refresh();
}

function row(entry) {
  const tr = document.createElement("tr");
  tr.dataset.requestId = entry.request_id;
  const secondsLeft = Math.max(0, entry.expires_at - Math.floor(Date.now() / 1000));
  tr.append(
    text("td", entry.client_name || entry.client_id),
    text("td", entry.subject),
    text("td", (entry.scopes || []).join(" ")),
    text("td", entry.binding_message),
    text("td", secondsLeft + " s"),
  );
  const actions = document.createElement("td");
  for (const [label, decision] of [["Approve", "approve"], ["Deny", "deny"]]) {
    const button = text("button", label);
    button.type = "button";
    button.className = decision;
    button.addEventListener("click", () => decide(entry.request_id, decision, button));
    actions.append(button);
  }
  tr.append(actions);
  return tr;
}

async function refresh() {
  try {
    const entries = await getJson("/console/requests");
    document.getElementById("requests").replaceChildren(...entries.map(row));
    document.getElementById("no-requests").hidden = entries.length > 0;
    const received = await getJson("/console/notifications");
    document.getElementById("notifications").replaceChildren(
      ...received.reverse().map((n) => text("li", JSON.stringify(n))),
    );
  } catch (error) {
    setStatus(error.message);
  }
}

document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = document.getElementById("token").value;
  sessionStorage.setItem("console-token", state.token);
  document.getElementById("token-form").hidden = true;
  refresh();
});

refresh();
setInterval(refresh, 2000);
